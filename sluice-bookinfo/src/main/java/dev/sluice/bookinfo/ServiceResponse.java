package dev.sluice.bookinfo;

import java.nio.charset.StandardCharsets;
import java.util.Map;

/** What a Bookinfo service answers: status, content type, extra headers and body. */
public record ServiceResponse(int status, String contentType, Map<String, String> headers, byte[] body) {

  static final String JSON = "application/json";
  static final String HTML = "text/html; charset=utf-8";
  static final String TEXT = "text/plain; charset=utf-8";

  public ServiceResponse {
    headers = Map.copyOf(headers);
  }

  public static ServiceResponse json(int status, String json) {
    return of(status, JSON, json);
  }

  public static ServiceResponse html(int status, String html) {
    return of(status, HTML, html);
  }

  public static ServiceResponse text(int status, String text) {
    return of(status, TEXT, text);
  }

  public static ServiceResponse of(int status, String contentType, String body) {
    return new ServiceResponse(status, contentType, Map.of(), body.getBytes(StandardCharsets.UTF_8));
  }

  /** A 302 to {@code location}, as Flask's redirect() answers, with an optional Set-Cookie. */
  public static ServiceResponse redirect(String location, String setCookie) {
    return new ServiceResponse(
        302, HTML, Map.of("Location", location, "Set-Cookie", setCookie), new byte[0]);
  }

  public String bodyText() {
    return new String(body, StandardCharsets.UTF_8);
  }
}
