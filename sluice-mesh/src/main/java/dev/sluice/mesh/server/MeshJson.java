package dev.sluice.mesh.server;

import com.google.gson.Gson;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.sluice.mesh.model.MeshResource;
import dev.sluice.mesh.model.MeshState;
import dev.sluice.mesh.model.ValidationMessage;
import java.util.List;
import java.util.Locale;
import org.jspecify.annotations.Nullable;

/** The API's JSON documents. */
final class MeshJson {
  private static final Gson GSON = new Gson();

  private MeshJson() {}

  static String change(ChangeResult r) {
    JsonObject o = new JsonObject();
    o.addProperty("accepted", r.accepted());
    o.addProperty("version", r.version());
    JsonArray changes = new JsonArray();
    r.changes().forEach(changes::add);
    o.add("changes", changes);
    JsonArray messages = new JsonArray();
    for (ValidationMessage m : r.messages()) {
      JsonObject j = new JsonObject();
      j.addProperty("level", m.level().name());
      j.addProperty("source", m.source());
      j.addProperty("resource", m.resource());
      j.addProperty("field", m.field());
      j.addProperty("message", m.message());
      j.addProperty("text", m.toString());
      messages.add(j);
    }
    o.add("messages", messages);
    return o.toString();
  }

  /** The resources in force, those of one kind when {@code kind} is given (see {@link ResourceKinds}). */
  static String resources(MeshState state, @Nullable String kind) {
    JsonObject o = new JsonObject();
    o.addProperty("version", state.version());
    JsonArray a = new JsonArray();
    for (MeshResource r : state.resources()) {
      if (kind != null && !kind.isEmpty() && !ResourceKinds.matches(kind, r.kind())) {
        continue;
      }
      JsonObject j = new JsonObject();
      j.addProperty("apiVersion", r.apiVersion());
      j.addProperty("kind", r.kind());
      j.addProperty("namespace", r.namespace());
      j.addProperty("name", r.name());
      j.addProperty("source", r.source());
      j.add("labels", GSON.toJsonTree(r.labels()));
      j.add("spec", GSON.toJsonTree(r.spec()));
      a.add(j);
    }
    o.add("resources", a);
    return o.toString();
  }

  static String status(long version, List<ProxyStatus> proxies) {
    JsonObject o = new JsonObject();
    o.addProperty("version", version);
    JsonArray a = new JsonArray();
    for (ProxyStatus p : proxies) {
      JsonObject j = new JsonObject();
      j.addProperty("proxy", p.proxy());
      j.addProperty("mode", p.mode());
      j.addProperty("protocol", p.protocol());
      JsonObject types = new JsonObject();
      for (TypeStatus t : p.types()) {
        JsonObject tj = new JsonObject();
        tj.addProperty("state", t.state());
        // Absent rather than null: what was never sent, ACKed or NACKed has no field.
        putIfSet(tj, "sent", t.sentVersion());
        putIfSet(tj, "acked", t.ackedVersion());
        putIfSet(tj, "nacked", t.nackedVersion());
        putIfSet(tj, "nack", t.nackMessage());
        types.add(t.type().toLowerCase(Locale.ROOT), tj);
      }
      j.add("types", types);
      a.add(j);
    }
    o.add("proxies", a);
    return o.toString();
  }

  private static void putIfSet(JsonObject o, String name, @Nullable String value) {
    if (value != null) {
      o.addProperty(name, value);
    }
  }
}
