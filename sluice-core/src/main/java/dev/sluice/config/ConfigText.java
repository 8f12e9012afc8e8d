package dev.sluice.config;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.Gson;
import com.google.gson.TypeAdapter;
import com.google.gson.JsonPrimitive;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import dev.sluice.api.config.ConfigException;
import java.io.IOException;
import java.io.StringReader;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.Tag;
import org.yaml.snakeyaml.representer.Representer;
import org.yaml.snakeyaml.resolver.Resolver;

/**
 * Config text (JSON or YAML) to a JSON tree. As Envoy, YAML is read as a superset of JSON: a
 * document that is not valid JSON is read as YAML.
 */
public final class ConfigText {
  private static final TypeAdapter<JsonElement> JSON_ELEMENT = new Gson().getAdapter(JsonElement.class);

  private ConfigText() {}

  /** Reads {@code text} as YAML when {@code yaml} is set or when it does not parse as JSON. */
  public static JsonElement read(String text, boolean yaml) {
    if (!yaml) {
      try {
        return readJson(text);
      } catch (ConfigException notJson) {
        // fall through: YAML accepts what JSON accepts and more (comments, block style)
      }
    }
    return readYaml(text);
  }

  /** Parses strict JSON. */
  public static JsonElement readJson(String text) {
    try {
      JsonReader reader = new JsonReader(new StringReader(text));
      JsonElement e = JSON_ELEMENT.read(reader); // strict: JsonParser would switch to lenient
      if (reader.peek() != JsonToken.END_DOCUMENT) {
        throw new ConfigException("", "trailing content after the JSON document");
      }
      return e;
    } catch (JsonParseException | IOException | IllegalStateException e) {
      throw new ConfigException("", "invalid JSON: " + e.getMessage(), e);
    }
  }

  /** Parses YAML (1.1 scalars, except that timestamps stay strings, as Envoy's yaml-cpp does). */
  public static JsonElement readYaml(String text) {
    LoaderOptions options = new LoaderOptions();
    options.setAllowDuplicateKeys(false);
    Yaml yaml = new Yaml(new SafeConstructor(options), new Representer(new DumperOptions()),
        new DumperOptions(), options, new NoTimestampResolver());
    try {
      return toJson(yaml.load(text));
    } catch (YAMLException e) {
      throw new ConfigException("", "invalid YAML: " + e.getMessage().replace('\n', ' '), e);
    }
  }

  private static JsonElement toJson(@Nullable Object value) {
    return switch (value) {
      case null -> JsonNull.INSTANCE;
      case Map<?, ?> map -> {
        JsonObject o = new JsonObject();
        map.forEach((k, v) -> o.add(String.valueOf(k), toJson(v)));
        yield o;
      }
      case List<?> list -> {
        JsonArray a = new JsonArray();
        list.forEach(v -> a.add(toJson(v)));
        yield a;
      }
      case Boolean b -> new JsonPrimitive(b);
      case Number n -> new JsonPrimitive(n);
      case byte[] bytes -> new JsonPrimitive(Base64.getEncoder().encodeToString(bytes));
      default -> new JsonPrimitive(value.toString());
    };
  }

  /** Snakeyaml's YAML 1.1 resolvers minus timestamps (a date-like string must reach proto as text). */
  private static final class NoTimestampResolver extends Resolver {
    @Override
    protected void addImplicitResolvers() {
      addImplicitResolver(Tag.BOOL, BOOL, "yYnNtTfFoO", 10);
      addImplicitResolver(Tag.INT, INT, "-+0123456789");
      addImplicitResolver(Tag.FLOAT, FLOAT, "-+0123456789.");
      addImplicitResolver(Tag.MERGE, MERGE, "<", 10);
      addImplicitResolver(Tag.NULL, NULL, "~nN\0", 10);
      addImplicitResolver(Tag.NULL, EMPTY, null, 10);
    }
  }
}
