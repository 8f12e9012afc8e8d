package dev.sluice.xds;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.TransportSocket;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CommonTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.SdsSecretConfig;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext;
import java.util.ArrayList;
import java.util.List;

/**
 * The SDS secrets ({@code *_sds_secret_config(s)} with an {@code sds_config}) the TLS transport
 * sockets of a listener's filter chains, or of a cluster (and its {@code transport_socket_matches}),
 * name: what the listener or cluster warms on. Inline certificates win over SDS ones, as the TLS
 * contexts have it; a context that cannot be decoded names nothing (building it reports why).
 */
final class SdsReferences {
  private static final String DOWNSTREAM = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext";
  private static final String UPSTREAM = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext";

  private SdsReferences() {}

  static List<SdsSecretConfig> of(Listener listener) {
    List<SdsSecretConfig> out = new ArrayList<>();
    for (FilterChain chain : listener.getFilterChainsList()) {
      add(chain.getTransportSocket(), out);
    }
    if (listener.hasDefaultFilterChain()) {
      add(listener.getDefaultFilterChain().getTransportSocket(), out);
    }
    return out;
  }

  static List<SdsSecretConfig> of(Cluster cluster) {
    List<SdsSecretConfig> out = new ArrayList<>();
    add(cluster.getTransportSocket(), out);
    cluster.getTransportSocketMatchesList().forEach(m -> add(m.getTransportSocket(), out));
    return out;
  }

  private static void add(TransportSocket socket, List<SdsSecretConfig> out) {
    Any config = socket.getTypedConfig();
    try {
      if (config.getTypeUrl().equals(DOWNSTREAM)) {
        add(config.unpack(DownstreamTlsContext.class).getCommonTlsContext(), out);
      } else if (config.getTypeUrl().equals(UPSTREAM)) {
        add(config.unpack(UpstreamTlsContext.class).getCommonTlsContext(), out);
      }
    } catch (InvalidProtocolBufferException e) {
      // The transport socket's own build reports it.
    }
  }

  private static void add(CommonTlsContext c, List<SdsSecretConfig> out) {
    if (c.getTlsCertificatesCount() == 0) {
      c.getTlsCertificateSdsSecretConfigsList().forEach(ref -> addDynamic(ref, out));
    }
    if (c.hasValidationContextSdsSecretConfig()) {
      addDynamic(c.getValidationContextSdsSecretConfig(), out);
    }
    if (c.hasCombinedValidationContext()) {
      addDynamic(c.getCombinedValidationContext().getValidationContextSdsSecretConfig(), out);
    }
  }

  private static void addDynamic(SdsSecretConfig ref, List<SdsSecretConfig> out) {
    if (ref.hasSdsConfig() && !ref.getName().isEmpty()) {
      out.add(ref);
    }
  }
}
