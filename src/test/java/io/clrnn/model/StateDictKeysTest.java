package io.clrnn.model;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clrnn.base.InvalidInputException;
import io.clrnn.RnnOptions;
import io.clrnn.StateDict;
import io.clrnn.base.Tensor;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** State_dict key sets from strangers: whatever the keys say, one short InvalidInputException, quickly. */
class StateDictKeysTest {
    private static final int MESSAGE_LIMIT = 2000;

    private static Map<String, Tensor> validRnn() {
        return new LinkedHashMap<>(RnnWeights.init(RnnConfig.of(3, 4), 1).stateDict());
    }

    private static void assertRefusedBriefly(Map<String, Tensor> stateDict) {
        Assertions.assertTimeoutPreemptively(Duration.ofSeconds(5), () -> {
            InvalidInputException e = assertThrows(InvalidInputException.class,
                    () -> StateDict.of(stateDict, RnnOptions.defaults()));
            String m = e.getMessage();
            assertTrue(m.length() <= MESSAGE_LIMIT, "message of " + m.length() + " characters");
            assertTrue(!m.contains("\n"), m);
        });
    }

    @ParameterizedTest
    @ValueSource(strings = {"weight_ih_l99999999999", "weight_hh_l1000000", "bias_ih_l2147483647",
            "weight_ih_l1000000_reverse", "bias_hh_l0099999999999999999999"})
    void absurdLayerNumbersAreRefusedInOneShortLine(String key) {
        Map<String, Tensor> sd = validRnn();
        sd.put(key, Tensor.zeros(4, 3));
        assertRefusedBriefly(sd);
    }

    @Provide
    Arbitrary<String> keys() {
        Arbitrary<String> kind = Arbitraries.of("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr", "weight_xx");
        Arbitrary<String> layer = Arbitraries.oneOf(Arbitraries.integers().between(0, 3).map(String::valueOf),
                Arbitraries.strings().numeric().ofMinLength(1).ofMaxLength(30),
                Arbitraries.longs().map(String::valueOf));
        Arbitrary<String> suffix = Arbitraries.of("", "_reverse", "_rev", "x");
        Arbitrary<String> structured = net.jqwik.api.Combinators.combine(kind, layer, suffix)
                .as((k, l, s) -> k + "_l" + l + s);
        return Arbitraries.oneOf(structured, Arbitraries.strings().ofMaxLength(40));
    }

    @Provide
    Arbitrary<int[]> shapes() {
        return Arbitraries.integers().between(0, 6).array(int[].class).ofMaxSize(3);
    }

    @Property(tries = 500)
    void randomKeySetsOnlyEverGiveInvalidInput(@ForAll("keySets") List<Tuple.Tuple2<String, int[]>> entries,
            @ForAll boolean startValid) {
        // Keys added to a valid module reach the inference of layers and directions; alone, the first checks.
        Map<String, Tensor> sd = startValid ? validRnn() : new LinkedHashMap<>();
        for (Tuple.Tuple2<String, int[]> e : entries) {
            sd.put(e.get1(), Tensor.zeros(e.get2()));
        }
        Assertions.assertTimeoutPreemptively(Duration.ofSeconds(5), () -> {
            try {
                StateDict.of(sd, RnnOptions.defaults());
            } catch (InvalidInputException e) {
                assertTrue(e.getMessage().length() <= MESSAGE_LIMIT, "message of " + e.getMessage().length());
                assertTrue(!e.getMessage().contains("\n"), e.getMessage());
            }
        });
    }

    @Provide
    Arbitrary<List<Tuple.Tuple2<String, int[]>>> keySets() {
        return net.jqwik.api.Combinators.combine(keys(), shapes()).as(Tuple::of).list().ofMaxSize(12);
    }
}
