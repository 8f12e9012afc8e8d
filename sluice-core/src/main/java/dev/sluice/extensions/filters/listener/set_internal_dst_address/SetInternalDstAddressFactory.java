package dev.sluice.extensions.filters.listener.set_internal_dst_address;

import com.google.common.net.HostAndPort;
import com.google.common.net.InetAddresses;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.sluice.api.FactoryContext;
import dev.sluice.api.network.DownstreamConnection;
import dev.sluice.api.network.ListenerFilter;
import dev.sluice.api.network.ListenerFilterFactory;
import java.net.InetSocketAddress;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * Istio's {@code istio.set_internal_dst_address} ({@code istio.set_internal_dst_address.v1.Config},
 * no fields), on internal listeners: the connection's local address becomes the
 * {@code destination} ({@code ip:port}) of the {@code tunnel} dynamic metadata the upstream endpoint
 * passed through, so filter-chain matching by destination port (Istio's {@code main_internal}
 * matches {@code destination_port}) and RBAC see the original destination. Istio's second source,
 * the authority object {@code connect_authority} shares through filter state, does not exist in
 * Sluice (no filter state); nor does the {@code tunnel.address} original-destination override.
 */
public final class SetInternalDstAddressFactory implements ListenerFilterFactory<Struct> {
  static final String METADATA_KEY = "tunnel";
  static final String DESTINATION = "destination";

  @Override
  public String name() {
    return "istio.set_internal_dst_address";
  }

  @Override
  public String typeUrl() {
    return "type.googleapis.com/istio.set_internal_dst_address.v1.Config";
  }

  @Override
  public Class<Struct> configType() {
    return Struct.class;
  }

  @Override
  public Struct defaultInstance() {
    return Struct.getDefaultInstance();
  }

  private static final ListenerFilter FILTER = new ListenerFilter() {
    @Override
    public Status onAccept(DownstreamConnection connection) {
      Value v = connection.streamInfo.dynamicMetadataValue(METADATA_KEY, java.util.List.of(DESTINATION));
      InetSocketAddress destination = v != null && v.hasStringValue() ? parse(v.getStringValue()) : null;
      if (destination != null) {
        connection.localAddress = destination;
        connection.localAddressRestored = true;
        connection.streamInfo.downstreamLocalAddress = destination;
      }
      return Status.CONTINUE;
    }
  };

  @Override
  public Supplier<ListenerFilter> create(Struct config, FactoryContext context) {
    return () -> FILTER;
  }

  /** {@code 10.0.0.1:80} or {@code [::1]:80}; null when malformed (Envoy then keeps the address). */
  static @Nullable InetSocketAddress parse(String s) {
    try {
      HostAndPort hp = HostAndPort.fromString(s);
      if (!hp.hasPort()) {
        return null;
      }
      return new InetSocketAddress(InetAddresses.forString(hp.getHost()), hp.getPort());
    } catch (IllegalArgumentException e) {
      return null;
    }
  }
}
