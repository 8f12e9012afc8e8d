package dev.sluice.admin;

import java.util.List;
import java.util.Map;

/** The runtime layers as {@code /runtime} shows them, lowest priority first. */
public interface RuntimeSnapshot {
  /** One layer: its name and its key/value entries. */
  record Layer(String name, Map<String, String> values) {
    public Layer {
      values = Map.copyOf(values);
    }
  }

  List<Layer> layers();
}
