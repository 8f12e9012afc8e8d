package dev.sluice.bookinfo;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.gson.JsonParseException;
import java.util.Optional;

/** Compact JSON as the originals write it (no HTML escaping, so descriptionHtml stays readable). */
final class Json {
  private static final Gson GSON = new GsonBuilder().disableHtmlEscaping().create();

  private Json() {}

  static String write(JsonElement element) {
    return GSON.toJson(element);
  }

  static JsonObject error(String message) {
    JsonObject error = new JsonObject();
    error.addProperty("error", message);
    return error;
  }

  /** {@code text} parsed as JSON, or empty when it is not JSON. */
  static Optional<JsonElement> parse(String text) {
    try {
      return Optional.of(JsonParser.parseString(text));
    } catch (JsonParseException e) {
      return Optional.empty();
    }
  }

  /** {@code text} parsed as a JSON object, or empty when it is anything else. */
  static Optional<JsonObject> parseObject(String text) {
    return parse(text).filter(JsonElement::isJsonObject).map(JsonElement::getAsJsonObject);
  }
}
