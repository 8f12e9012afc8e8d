package dev.sluice.mesh.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.gson.JsonSyntaxException;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/** The CLI's side of the control plane's HTTP API ({@code dev.sluice.mesh.server.MeshApiServer}). */
final class MeshApiClient {
  /** An answer: the HTTP status and its JSON document. */
  record Answer(int status, JsonObject json) {
    boolean ok() {
      return status == 200;
    }

    String error() {
      return json.has("error") ? json.get("error").getAsString() : "HTTP " + status;
    }
  }

  /** A file to send: its name for messages and its YAML. */
  record SourceFile(Path path, String yaml) {}

  /** The control plane cannot be reached or answered something that is not the API's JSON. */
  static final class ApiException extends Exception {
    ApiException(String message) {
      super(message);
    }
  }

  private final URI server;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  MeshApiClient(URI server) {
    this.server = server;
  }

  Answer get(String pathAndQuery) throws ApiException {
    return send(HttpRequest.newBuilder(resolve(pathAndQuery)).GET());
  }

  /** Sends every file in one request, so they change the mesh together or not at all. */
  Answer post(String path, List<SourceFile> files) throws ApiException {
    JsonArray a = new JsonArray();
    for (SourceFile f : files) {
      JsonObject o = new JsonObject();
      o.addProperty("source", f.path().toString());
      o.addProperty("yaml", f.yaml());
      a.add(o);
    }
    JsonObject body = new JsonObject();
    body.add("files", a);
    return send(HttpRequest.newBuilder(resolve(path)).header("content-type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body.toString())));
  }

  private URI resolve(String pathAndQuery) {
    String base = server.toString();
    return URI.create((base.endsWith("/") ? base.substring(0, base.length() - 1) : base) + pathAndQuery);
  }

  private Answer send(HttpRequest.Builder request) throws ApiException {
    HttpResponse<String> r;
    try {
      r = http.send(request.timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
    } catch (ConnectException e) {
      throw new ApiException("cannot reach the control plane at " + server + " (is `sluice mesh` running?)");
    } catch (IOException e) {
      throw new ApiException("the control plane at " + server + " failed: " + e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ApiException("interrupted");
    }
    try {
      return new Answer(r.statusCode(), JsonParser.parseString(r.body()).getAsJsonObject());
    } catch (JsonSyntaxException | IllegalStateException e) {
      throw new ApiException(server + " is not a Sluice control plane (HTTP " + r.statusCode() + ", not JSON)");
    }
  }
}
