package dev.sluice.admin;

/**
 * One admin request.
 *
 * @param method the HTTP method, upper case
 * @param path the path without the query, e.g. {@code /stats}
 * @param query the decoded query parameters
 * @param body the request body (admin requests rarely have one)
 */
public record AdminRequest(String method, String path, QueryParams query, byte[] body) {
  public AdminRequest {
    body = body.clone();
  }

  @Override
  public byte[] body() {
    return body.clone();
  }
}
