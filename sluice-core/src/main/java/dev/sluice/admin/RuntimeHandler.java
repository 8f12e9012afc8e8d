package dev.sluice.admin;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.ListValue;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import com.google.protobuf.util.JsonFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;

/**
 * {@code /runtime}: Envoy's JSON of runtime layers, {@code {"layers":[names],"entries":{key:
 * {"final_value":v,"layer_values":[value per layer, "" where absent]}}}}.
 */
public final class RuntimeHandler {
  private final Supplier<RuntimeSnapshot> snapshot;

  public RuntimeHandler(Supplier<RuntimeSnapshot> snapshot) {
    this.snapshot = snapshot;
  }

  public void register(AdminServer admin) {
    admin.register("/runtime", "print runtime values", false, AdminHandler.sync(r -> runtime()));
  }

  AdminResponse runtime() {
    List<RuntimeSnapshot.Layer> layers = snapshot.get().layers();
    ListValue.Builder names = ListValue.newBuilder();
    Map<String, Struct.Builder> entries = new TreeMap<>();
    for (RuntimeSnapshot.Layer layer : layers) {
      names.addValues(text(layer.name()));
      layer.values().keySet().forEach(k -> entries.computeIfAbsent(k, x -> Struct.newBuilder()));
    }
    Struct.Builder entriesJson = Struct.newBuilder();
    entries.forEach((key, entry) -> {
      ListValue.Builder perLayer = ListValue.newBuilder();
      String finalValue = "";
      for (RuntimeSnapshot.Layer layer : layers) {
        String v = layer.values().getOrDefault(key, "");
        perLayer.addValues(text(v));
        if (layer.values().containsKey(key)) {
          finalValue = v;
        }
      }
      entry.putFields("final_value", text(finalValue));
      entry.putFields("layer_values", Value.newBuilder().setListValue(perLayer).build());
      entriesJson.putFields(key, Value.newBuilder().setStructValue(entry).build());
    });
    Struct body = Struct.newBuilder()
        .putFields("layers", Value.newBuilder().setListValue(names).build())
        .putFields("entries", Value.newBuilder().setStructValue(entriesJson).build())
        .build();
    try {
      return AdminResponse.json(
          AdminJson.print(body, JsonFormat.TypeRegistry.getEmptyTypeRegistry(), false));
    } catch (InvalidProtocolBufferException e) {
      return AdminResponse.text(500, "error: " + e.getMessage() + "\n");
    }
  }

  private static Value text(String s) {
    return Value.newBuilder().setStringValue(s).build();
  }
}
