package dev.sluice.lb.subset;

import com.google.protobuf.ListValue;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.sluice.testing.SimpleHost;
import io.envoyproxy.envoy.config.core.v3.Metadata;
import java.net.InetSocketAddress;

/** A host for subset tests: an address, {@code envoy.lb} metadata and settable health. */
final class MetaHost extends SimpleHost {
  MetaHost(int n, Struct lb) {
    super(new InetSocketAddress("10.1.0." + n, 80), 1, Metadata.newBuilder().putFilterMetadata("envoy.lb", lb).build(), null);
  }

  /** {@code key=value} pairs; a value {@code a|b} becomes a list. */
  static MetaHost of(int n, String... pairs) {
    return new MetaHost(n, struct(pairs));
  }

  static Struct struct(String... pairs) {
    Struct.Builder b = Struct.newBuilder();
    for (String pair : pairs) {
      String[] kv = pair.split("=", 2);
      b.putFields(kv[0], value(kv[1]));
    }
    return b.build();
  }

  static Value value(String v) {
    if (v.contains("|")) {
      ListValue.Builder list = ListValue.newBuilder();
      for (String e : v.split("\\|")) {
        list.addValues(Value.newBuilder().setStringValue(e));
      }
      return Value.newBuilder().setListValue(list).build();
    }
    return Value.newBuilder().setStringValue(v).build();
  }

  MetaHost unhealthy() {
    healthy = false;
    return this;
  }
}
