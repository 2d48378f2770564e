"""The five kinds of network people deploy around a recurrent core, as torch modules: the test fixtures
(scripts/make-network-fixtures.py, small sizes) and the benchmark's networks section (scripts/bench_torch.py
--network, the sizes in BENCH) build them from here.

  sentiment  Embedding(padding_idx=0) -> LSTM(batch_first) -> Linear on the last h_n
  tagger     Embedding -> bidirectional GRU(batch_first) -> Linear per step -> log_softmax
  forecaster 2-layer LSTM(batch_first) -> last step -> Linear
  charlm     Embedding -> LSTM (time-major) -> Linear to vocabulary logits at every step
  events     RNN(relu, batch_first) -> LayerNorm -> Linear -> sigmoid per step

and the language model `clrnn generate` runs (LanguageModel: Embedding -> 2-layer LSTM(batch_first) -> Linear, its
state carried from call to call), with torch's greedy loop.
"""
import torch
from torch import nn


class Sentiment(nn.Module):
    def __init__(self, vocab, emb, hidden, classes):
        super().__init__()
        self.emb = nn.Embedding(vocab, emb, padding_idx=0)
        self.rnn = nn.LSTM(emb, hidden, batch_first=True)
        self.fc = nn.Linear(hidden, classes)

    def forward(self, x):
        _, (h, _) = self.rnn(self.emb(x))
        return self.fc(h[-1])


class Tagger(nn.Module):
    def __init__(self, vocab, emb, hidden, tags):
        super().__init__()
        self.emb = nn.Embedding(vocab, emb)
        self.rnn = nn.GRU(emb, hidden, bidirectional=True, batch_first=True)
        self.fc = nn.Linear(2 * hidden, tags)

    def forward(self, x):
        y, _ = self.rnn(self.emb(x))
        return torch.log_softmax(self.fc(y), dim=-1)


class Forecaster(nn.Module):
    def __init__(self, features, hidden):
        super().__init__()
        self.rnn = nn.LSTM(features, hidden, num_layers=2, batch_first=True)
        self.fc = nn.Linear(hidden, 1)

    def forward(self, x):
        y, _ = self.rnn(x)
        return self.fc(y[:, -1, :])


class CharLM(nn.Module):
    def __init__(self, vocab, emb, hidden):
        super().__init__()
        self.emb = nn.Embedding(vocab, emb)
        self.rnn = nn.LSTM(emb, hidden)
        self.fc = nn.Linear(hidden, vocab)

    def forward(self, x):
        y, _ = self.rnn(self.emb(x))
        return self.fc(y)


class Events(nn.Module):
    def __init__(self, features, hidden):
        super().__init__()
        self.rnn = nn.RNN(features, hidden, nonlinearity="relu", batch_first=True)
        self.norm = nn.LayerNorm(hidden)
        self.fc = nn.Linear(hidden, 1)

    def forward(self, x):
        y, _ = self.rnn(x)
        return torch.sigmoid(self.fc(self.norm(y)))


class LanguageModel(nn.Module):
    """Token ids (batch, seq) to logits (batch, seq, vocab); forward also takes and returns the LSTM's (h, c)."""

    def __init__(self, vocab, emb, hidden, layers=2):
        super().__init__()
        self.emb = nn.Embedding(vocab, emb)
        self.rnn = nn.LSTM(emb, hidden, num_layers=layers, batch_first=True)
        self.fc = nn.Linear(hidden, vocab)

    def forward(self, x, state=None):
        y, state = self.rnn(self.emb(x), state)
        return self.fc(y), state


class Logits(nn.Module):
    """A LanguageModel as torch.onnx.export should see it: ids to logits, no state."""

    def __init__(self, lm):
        super().__init__()
        self.lm = lm

    def forward(self, x):
        return self.lm(x)[0]


class LogitsWithState(nn.Module):
    """A LanguageModel with its state as graph inputs and outputs (h0, c0 -> hn, cn): how a stateless runtime
    (ONNX Runtime) carries the state, fed back by the caller."""

    def __init__(self, lm):
        super().__init__()
        self.lm = lm

    def forward(self, x, h0, c0):
        logits, (h, c) = self.lm(x, (h0, c0))
        return logits, h, c


def greedy(lm, prompt, length):
    """torch's greedy loop: the prompt as one forward, then one step per token carrying (h, c); the tokens made, and
    the smallest gap between the best and the second-best logit along the way."""
    with torch.no_grad():
        logits, state = lm(torch.tensor([prompt]))
        out, gap = [], float("inf")
        for _ in range(length):
            top = torch.topk(logits[0, -1], 2).values
            gap = min(gap, float(top[0] - top[1]))
            token = int(logits[0, -1].argmax())
            out.append(token)
            logits, state = lm(torch.tensor([[token]]), state)
        return out, gap


# name -> (builder, vocabulary for token ids or ("f", width) for float features, batch_first)
BENCH = {
    "sentiment": (lambda: Sentiment(10000, 128, 256, 2), 10000, True),
    "tagger": (lambda: Tagger(10000, 128, 128, 20), 10000, True),
    "forecaster": (lambda: Forecaster(16, 128), ("f", 16), True),
    "charlm": (lambda: CharLM(100, 64, 256), 100, False),
    "events": (lambda: Events(32, 128), ("f", 32), True),
}


def make_input(gen, vocab, batch, seq, batch_first):
    """Seeded token ids (the first one 0, the padding row where the embedding has one) or float features."""
    shape = (batch, seq) if batch_first else (seq, batch)
    if isinstance(vocab, tuple):
        return torch.randn(*shape, vocab[1], generator=gen)
    x = torch.randint(0, vocab, shape, generator=gen)
    x.view(-1)[0] = 0
    return x


def export(model, dummy, batch_first, path, opset):
    """torch.onnx.export with dynamic batch and sequence axes, input x, output y."""
    axes = {0: "batch", 1: "seq"} if batch_first else {0: "seq", 1: "batch"}
    torch.onnx.export(model, (dummy,), path, opset_version=opset, input_names=["x"], output_names=["y"],
                      dynamic_axes={"x": axes})
