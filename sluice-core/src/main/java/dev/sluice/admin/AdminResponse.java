package dev.sluice.admin;

import java.nio.charset.StandardCharsets;

/** The answer of an admin handler: status, content type and body. */
public record AdminResponse(int status, String contentType, byte[] body) {
  public static final String TEXT = "text/plain; charset=UTF-8";
  public static final String JSON = "application/json";
  public static final String HTML = "text/html; charset=UTF-8";

  public AdminResponse {
    body = body.clone();
  }

  @Override
  public byte[] body() {
    return body.clone();
  }

  public String bodyText() {
    return new String(body, StandardCharsets.UTF_8);
  }

  public static AdminResponse text(int status, String body) {
    return new AdminResponse(status, TEXT, body.getBytes(StandardCharsets.UTF_8));
  }

  public static AdminResponse ok(String body) {
    return text(200, body);
  }

  public static AdminResponse json(String body) {
    return new AdminResponse(200, JSON, body.getBytes(StandardCharsets.UTF_8));
  }

  public static AdminResponse html(String body) {
    return new AdminResponse(200, HTML, body.getBytes(StandardCharsets.UTF_8));
  }
}
