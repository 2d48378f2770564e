package io.clrnn.cli;

import io.clrnn.base.InvalidInputException;
import io.clrnn.base.Tensor;
import io.clrnn.device.Device;
import io.clrnn.format.FormatException;
import io.clrnn.onnx.OnnxModel;
import io.clrnn.onnx.OnnxModel.Port;
import io.clrnn.onnx.OnnxModel.Role;
import io.clrnn.onnx.OnnxSession;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code clrnn run --weights model.onnx}: the flags of a state_dict run, mapped onto the graph. --input, --h0,
 * --c0 and --lengths feed the graph inputs that become X, initial_h, initial_c and sequence_lens of its recurrent
 * nodes; --out, --hn and --cn receive the graph outputs that come from Y, Y_h and Y_c, in the graph's shapes;
 * --feed NAME=FILE gives any other input by name.
 */
final class OnnxRun {
    private OnnxRun() {}

    static int run(RunCommand cmd) throws IOException {
        refuseStateDictOptions(cmd);
        Map<String, Path> byName = cmd.outputsByName == null ? Map.of() : cmd.outputsByName;
        if (cmd.out == null && cmd.hn == null && cmd.cn == null && byName.isEmpty()) {
            throw new InvalidInputException("give at least one of --out, --hn, --cn, --output NAME=FILE: where to write "
                    + "the graph outputs");
        }
        cmd.checkPaths();
        OnnxModel model = OnnxModel.load(cmd.weights);

        // Which graph input each file feeds, each checked before any file is read.
        Map<String, Path> floatFiles = new LinkedHashMap<>();
        Map<String, Path> intFiles = new LinkedHashMap<>();
        Map<String, String> fedBy = new HashMap<>();
        assign(model, Role.INITIAL_H, "--h0", cmd.h0, floatFiles, intFiles, fedBy);
        assign(model, Role.INITIAL_C, "--c0", cmd.c0, floatFiles, intFiles, fedBy);
        assign(model, Role.SEQUENCE_LENS, "--lengths", cmd.lengths, floatFiles, intFiles, fedBy);
        if (cmd.feeds != null) {
            cmd.feeds.forEach((name, path) -> {
                Port p = model.inputs().stream().filter(i -> i.name().equals(name)).findFirst()
                        .orElseThrow(() -> new InvalidInputException("--feed " + name + ": the model has no input '"
                                + name + "'; its inputs are " + names(model.inputs())));
                put(p, "--feed " + name, path, floatFiles, intFiles, fedBy);
            });
        }
        if (!model.inputsFor(Role.X).isEmpty() || cmd.input == null) {
            assign(model, Role.X, "--input", cmd.input, floatFiles, intFiles, fedBy);
        } else {
            // a whole network: its X is made inside (an embedding of token ids, say); --input feeds what is left
            List<Port> left = model.inputs().stream().filter(p -> !fedBy.containsKey(p.name())).toList();
            if (left.size() != 1) {
                throw new InvalidInputException("--input: no input of the model becomes X, and " + (left.isEmpty()
                        ? "every input is fed already" : "inputs " + names(left) + " are left; name each with --feed "
                        + "NAME=FILE"));
            }
            put(left.get(0), "--input", cmd.input, floatFiles, intFiles, fedBy);
        }
        for (Port p : model.inputs()) {
            if (!fedBy.containsKey(p.name())) {
                throw new InvalidInputException("the model needs input " + FormatException.quote(p.name()) + " ("
                        + p.type() + " " + p.shape() + describeRoles(p) + "): give it with " + flagFor(p));
            }
        }

        // Where each output goes.
        Map<Path, String> targets = new LinkedHashMap<>();
        target(model, Role.Y_H, "--hn", cmd.hn, targets);
        target(model, Role.Y_C, "--cn", cmd.cn, targets);
        if (cmd.out != null && model.outputsFor(Role.Y).isEmpty() && model.outputs().size() == 1) {
            targets.put(cmd.out, model.outputs().get(0).name()); // a network's one output: logits, say
        } else {
            target(model, Role.Y, "--out", cmd.out, targets);
        }
        byName.forEach((name, path) -> {
            if (model.outputs().stream().noneMatch(p -> p.name().equals(name))) {
                throw new InvalidInputException("--output " + name + ": the model has no output "
                        + FormatException.quote(name) + "; its outputs are " + names(model.outputs()));
            }
            targets.put(path, name);
        });

        Map<String, Path> inputFiles = new LinkedHashMap<>(floatFiles);
        inputFiles.putAll(intFiles);
        GraphInputs inputs = GraphInputs.read(model, inputFiles);
        Map<String, Tensor> results;
        try (Device d = cmd.device.open(); OnnxSession session = model.open(d)) {
            results = session.run(inputs.floats(), inputs.ints());
        }
        // Every result exists before any file is written, so a failure cannot leave some done.
        Map<Path, Tensor> files = new LinkedHashMap<>();
        List<String> report = new ArrayList<>();
        targets.forEach((path, output) -> {
            files.put(path, results.get(output));
            report.add(output + " " + Tensor.format(results.get(output).shape()) + " -> " + path);
        });
        RunCommand.writeAll(files);
        cmd.spec.commandLine().getErr().println(String.join(", ", report));
        return Main.EXIT_OK;
    }

    private static void refuseStateDictOptions(RunCommand cmd) {
        String given = cmd.batchFirst ? "--batch-first" : cmd.mode != null ? "--mode" : cmd.nonlinearity != null
                ? "--nonlinearity" : cmd.prefix != null ? "--prefix" : !cmd.weightsDtype.equals("f32")
                ? "--weights-dtype" : null;
        if (given != null) {
            throw new InvalidInputException(given + " is for a state_dict; " + cmd.weights + " is an ONNX model, whose "
                    + "graph says its layout, cells and activations");
        }
    }

    /** Feeds the one graph input that becomes {@code role} from {@code path}, when the flag is given. */
    private static void assign(OnnxModel model, Role role, String flag, Path path, Map<String, Path> floatFiles,
            Map<String, Path> intFiles, Map<String, String> fedBy) {
        if (path == null) {
            return;
        }
        List<Port> ports = model.inputsFor(role);
        if (ports.size() != 1) {
            throw new InvalidInputException(flag + ": " + (ports.isEmpty() ? "no input of the model becomes "
                    + role.onnxName() : "inputs " + names(ports) + " all become " + role.onnxName()
                    + "; name one with --feed NAME=FILE") + " (the model's inputs: " + names(model.inputs()) + ")");
        }
        put(ports.get(0), flag, path, floatFiles, intFiles, fedBy);
    }

    private static void put(Port p, String flag, Path path, Map<String, Path> floatFiles, Map<String, Path> intFiles,
            Map<String, String> fedBy) {
        String before = fedBy.put(p.name(), flag);
        if (before != null) {
            throw new InvalidInputException(before + " and " + flag + " both feed input "
                    + FormatException.quote(p.name()));
        }
        (p.isFloat() ? floatFiles : intFiles).put(p.name(), path);
    }

    /** Sends the one graph output that comes from {@code role} to {@code path}, when the flag is given. */
    private static void target(OnnxModel model, Role role, String flag, Path path, Map<Path, String> targets) {
        if (path == null) {
            return;
        }
        List<Port> ports = model.outputsFor(role);
        if (ports.size() != 1) {
            throw new InvalidInputException(flag + ": " + (ports.isEmpty() ? "no output of the model comes from "
                    + role.onnxName() : "outputs " + names(ports) + " all come from " + role.onnxName())
                    + " (the model's outputs: " + names(model.outputs()) + ")");
        }
        targets.put(path, ports.get(0).name());
    }

    private static String flagFor(Port p) {
        if (p.roles().size() == 1) {
            Role r = p.roles().iterator().next();
            switch (r) {
                case X -> {
                    return "--input";
                }
                case INITIAL_H -> {
                    return "--h0";
                }
                case INITIAL_C -> {
                    return "--c0";
                }
                case SEQUENCE_LENS -> {
                    return "--lengths";
                }
                default -> { }
            }
        }
        return "--feed " + p.name() + "=FILE.npy";
    }

    private static String describeRoles(Port p) {
        return p.roles().isEmpty() ? "" : ", becomes " + String.join(" and ", p.roles().stream().map(Role::onnxName)
                .toList());
    }

    private static String names(List<Port> ports) {
        return ports.stream().map(p -> FormatException.quote(p.name())).toList().toString();
    }
}
