package dev.sluice.lb.subset;

import com.google.protobuf.ListValue;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.sluice.api.upstream.ClusterInfo;
import dev.sluice.api.upstream.Host;
import dev.sluice.api.upstream.HostStats;
import io.envoyproxy.envoy.config.core.v3.Locality;
import io.envoyproxy.envoy.config.core.v3.Metadata;
import java.net.InetSocketAddress;

/** A host for subset tests: an address, {@code envoy.lb} metadata and settable health. */
final class MetaHost implements Host {
  private final InetSocketAddress address;
  private final Metadata metadata;
  private final HostStats stats = new HostStats();
  boolean healthy = true;

  MetaHost(int n, Struct lb) {
    this.address = new InetSocketAddress("10.1.0." + n, 80);
    this.metadata = Metadata.newBuilder().putFilterMetadata("envoy.lb", lb).build();
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

  @Override
  public InetSocketAddress address() {
    return address;
  }

  @Override
  public String addressString() {
    return address.getAddress().getHostAddress() + ":" + address.getPort();
  }

  @Override
  public String hostname() {
    return "";
  }

  @Override
  public int weight() {
    return 1;
  }

  @Override
  public int priority() {
    return 0;
  }

  @Override
  public Locality locality() {
    return Locality.getDefaultInstance();
  }

  @Override
  public Metadata metadata() {
    return metadata;
  }

  @Override
  public boolean healthy() {
    return healthy;
  }

  @Override
  public boolean degraded() {
    return false;
  }

  @Override
  public ClusterInfo cluster() {
    throw new UnsupportedOperationException();
  }

  @Override
  public HostStats stats() {
    return stats;
  }

  @Override
  public String toString() {
    return addressString();
  }
}
