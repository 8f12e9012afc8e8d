package dev.sluice.mesh.server;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.sluice.config.ProtoTypes;
import dev.sluice.mesh.model.MeshResource;
import dev.sluice.mesh.model.MeshSources;
import dev.sluice.mesh.model.XdsResources;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Function;

/**
 * The HTTP API the CLI talks to (JSON answers):
 * <ul>
 *   <li>{@code POST /apply}, {@code POST /delete}: the body is YAML (one source, named by
 *       {@code ?source=}) or, with {@code Content-Type: application/json},
 *       {@code {"files":[{"source":..,"yaml":..}]}} so several files change together or not at all.
 *       200 with {@code version}, {@code changes}, {@code messages}; 422 when validation found an
 *       error (nothing changed); 400 when the YAML cannot be read.
 *   <li>{@code GET /resources[?kind=K]}: the resources in force and the version;
 *   <li>{@code GET /status}: every connected proxy's per-type ACK state;
 *   <li>{@code GET /debug/config?proxy=ID}: what that proxy was last sent (404 if not connected).
 * </ul>
 */
public final class MeshApiServer implements AutoCloseable {
  private final HttpServer server;
  private final ExecutorService executor;
  private final MeshControlPlane controlPlane;
  private final MeshSources sources;

  private MeshApiServer(HttpServer server, ExecutorService executor, MeshControlPlane controlPlane, MeshSources sources) {
    this.server = server;
    this.executor = executor;
    this.controlPlane = controlPlane;
    this.sources = sources;
  }

  /** Binds {@code address} (port 0: any free port) and serves the API. */
  public static MeshApiServer start(MeshControlPlane controlPlane, MeshSources sources, InetSocketAddress address) {
    HttpServer http;
    try {
      http = HttpServer.create(address, 16);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot serve the mesh API on " + address.getHostString() + ":" + address.getPort()
          + ": " + e.getMessage(), e);
    }
    ExecutorService executor = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "sluice-mesh-api");
      t.setDaemon(true);
      return t;
    });
    MeshApiServer api = new MeshApiServer(http, executor, controlPlane, sources);
    http.setExecutor(executor);
    http.createContext("/", api::handle);
    http.start();
    return api;
  }

  public int port() {
    return server.getAddress().getPort();
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }

  private void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      Reply reply;
      try {
        reply = route(exchange);
      } catch (IllegalArgumentException e) {
        reply = Reply.error(400, e.getMessage());
      } catch (RuntimeException e) {
        reply = Reply.error(500, e.toString());
      }
      byte[] body = (reply.body + "\n").getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().set("content-type", "application/json");
      exchange.sendResponseHeaders(reply.status, body.length);
      exchange.getResponseBody().write(body);
    }
  }

  private Reply route(HttpExchange exchange) throws IOException {
    String path = exchange.getRequestURI().getPath();
    String method = exchange.getRequestMethod();
    Map<String, String> query = query(exchange.getRequestURI().getRawQuery());
    return switch (path) {
      case "/apply" -> post(method, () -> change(exchange, query, controlPlane::apply));
      case "/delete" -> post(method, () -> change(exchange, query, controlPlane::delete));
      case "/resources" -> get(method, () -> new Reply(200, MeshJson.resources(controlPlane.state(), query.get("kind"))));
      case "/status" -> get(method, () -> new Reply(200, MeshJson.status(controlPlane.state().version(), controlPlane.status())));
      case "/debug/config" -> get(method, () -> debugConfig(query.get("proxy")));
      default -> Reply.error(404, "no such path " + path + " (try /apply, /delete, /resources, /status, /debug/config?proxy=ID)");
    };
  }

  private interface Handler {
    Reply handle() throws IOException;
  }

  private static Reply post(String method, Handler h) throws IOException {
    return method.equals("POST") ? h.handle() : Reply.error(405, "use POST");
  }

  private static Reply get(String method, Handler h) throws IOException {
    return method.equals("GET") ? h.handle() : Reply.error(405, "use GET");
  }

  private Reply change(HttpExchange exchange, Map<String, String> query,
      Function<List<MeshResource>, ChangeResult> change) throws IOException {
    String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
    String contentType = exchange.getRequestHeaders().getFirst("content-type");
    List<MeshResource> resources = new ArrayList<>();
    if (contentType != null && contentType.toLowerCase(Locale.ROOT).startsWith("application/json")) {
      JsonElement files = JsonParser.parseString(body).getAsJsonObject().get("files");
      if (files == null || !files.isJsonArray()) {
        throw new IllegalArgumentException("a JSON body must be {\"files\":[{\"source\":...,\"yaml\":...}]}");
      }
      for (JsonElement f : files.getAsJsonArray()) {
        JsonObject o = f.getAsJsonObject();
        resources.addAll(sources.parse(o.get("yaml").getAsString(), o.get("source").getAsString()));
      }
    } else {
      resources.addAll(sources.parse(body, query.getOrDefault("source", "request")));
    }
    ChangeResult result = change.apply(resources);
    return new Reply(result.accepted() ? 200 : 422, MeshJson.change(result));
  }

  private Reply debugConfig(String proxy) {
    if (proxy == null) {
      return Reply.error(400, "give the proxy: /debug/config?proxy=ID (ids: GET /status)");
    }
    return controlPlane.config(proxy).map(x -> new Reply(200, configJson(proxy, x)))
        .orElse(Reply.error(404, "no connected proxy " + proxy));
  }

  private static String configJson(String proxy, XdsResources x) {
    JsonObject o = new JsonObject();
    o.addProperty("proxy", proxy);
    o.add("clusters", protos(x.clusters()));
    o.add("endpoints", protos(x.endpoints()));
    o.add("listeners", protos(x.listeners()));
    o.add("routes", protos(x.routes()));
    return o.toString();
  }

  private static JsonArray protos(List<? extends Message> messages) {
    JsonArray a = new JsonArray();
    for (Message m : messages) {
      try {
        a.add(JsonParser.parseString(ProtoTypes.get().printer().print(m)));
      } catch (InvalidProtocolBufferException e) {
        throw new IllegalStateException("cannot print " + m.getDescriptorForType().getFullName() + ": " + e.getMessage(), e);
      }
    }
    return a;
  }

  private static Map<String, String> query(String raw) {
    Map<String, String> m = new HashMap<>();
    if (raw != null) {
      for (String part : raw.split("&")) {
        int eq = part.indexOf('=');
        String k = eq < 0 ? part : part.substring(0, eq);
        String v = eq < 0 ? "" : part.substring(eq + 1);
        m.put(URLDecoder.decode(k, StandardCharsets.UTF_8), URLDecoder.decode(v, StandardCharsets.UTF_8));
      }
    }
    return m;
  }

  private record Reply(int status, String body) {
    static Reply error(int status, String message) {
      JsonObject o = new JsonObject();
      o.addProperty("error", message);
      return new Reply(status, o.toString());
    }
  }
}
