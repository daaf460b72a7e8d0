package io.shardlink.json;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardlink.testing.Json;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JsonWriterTest {
    @Test
    void nestedDocumentParsesBackWithEveryValueKind() {
        String nasty = "quote \" backslash \\ newline \n tab \t bell \u0007 nul \u0000 sep \u2028 é ✓";
        String doc = new JsonWriter().beginObject()
                .field("s", nasty).field("n", -42L).field("d", 1.5).field("tiny", 1e-9).field("t", true)
                .name("nan").value(Double.NaN).name("none").nullValue()
                .name("a").beginArray().value(1).beginObject().endObject().beginArray().endArray().value("x").endArray()
                .name("o").beginObject().field("k", "v").endObject()
                .endObject().toString();
        Map<String, Object> m = Json.object(doc);
        assertThat(m.get("s")).isEqualTo(nasty);
        assertThat(m.get("n")).isEqualTo(-42L);
        assertThat(m.get("d")).isEqualTo(1.5);
        assertThat((Double) m.get("tiny")).isEqualTo(1e-9);
        assertThat(m.get("t")).isEqualTo(true);
        assertThat(m).containsEntry("nan", null).containsEntry("none", null);
        assertThat(m.get("a")).isEqualTo(List.of(1L, Map.of(), List.of(), "x"));
        assertThat(m.get("o")).isEqualTo(Map.of("k", "v"));
        assertThat(doc).doesNotContain("\n").doesNotContain("\u2028");
    }

    @Test
    void closingWhatIsNotOpenIsAnError() {
        assertThatThrownBy(() -> new JsonWriter().endObject()).isInstanceOf(IllegalStateException.class);
    }
}
