package dev.sluice.server;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.sluice.admin.RuntimeSnapshot;
import io.envoyproxy.envoy.config.bootstrap.v3.LayeredRuntime;
import io.envoyproxy.envoy.config.bootstrap.v3.RuntimeLayer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The bootstrap's {@code layered_runtime} as {@code /runtime} shows it. A static layer's nested
 * Struct becomes dotted keys ({@code {a: {b: 1}}} is {@code a.b = 1}), as Envoy's ProtoLayer
 * walks it; disk, admin and RTDS layers are listed by name and hold nothing (no disk loader, no
 * runtime writes, no RTDS here).
 */
final class RuntimeLayers implements RuntimeSnapshot {
  private final List<Layer> layers;

  private RuntimeLayers(List<Layer> layers) {
    this.layers = List.copyOf(layers);
  }

  static RuntimeLayers of(LayeredRuntime runtime) {
    List<Layer> layers = new ArrayList<>();
    for (RuntimeLayer layer : runtime.getLayersList()) {
      Map<String, String> values = new LinkedHashMap<>();
      if (layer.hasStaticLayer()) {
        flatten("", layer.getStaticLayer(), values);
      }
      layers.add(new Layer(layer.getName(), values));
    }
    return new RuntimeLayers(layers);
  }

  @Override
  public List<Layer> layers() {
    return layers;
  }

  private static void flatten(String prefix, Struct struct, Map<String, String> out) {
    struct.getFieldsMap().forEach((key, value) -> {
      String name = prefix.isEmpty() ? key : prefix + "." + key;
      if (value.hasStructValue()) {
        flatten(name, value.getStructValue(), out);
      } else {
        out.put(name, text(value));
      }
    });
  }

  private static String text(Value value) {
    return switch (value.getKindCase()) {
      case STRING_VALUE -> value.getStringValue();
      case BOOL_VALUE -> Boolean.toString(value.getBoolValue());
      case NUMBER_VALUE -> {
        double d = value.getNumberValue();
        yield d == Math.rint(d) && Math.abs(d) < 1e15 ? Long.toString((long) d) : Double.toString(d);
      }
      // Lists have no runtime meaning; null clears a key (an empty value).
      case LIST_VALUE, NULL_VALUE, STRUCT_VALUE, KIND_NOT_SET -> "";
    };
  }
}
