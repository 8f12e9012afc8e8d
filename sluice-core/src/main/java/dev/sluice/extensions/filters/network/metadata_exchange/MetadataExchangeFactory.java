package dev.sluice.extensions.filters.network.metadata_exchange;

import com.google.protobuf.Struct;
import com.google.protobuf.Value.KindCase;
import dev.sluice.extensions.filters.passthrough.OpaqueNetworkFilterFactory;
import dev.sluice.extensions.filters.passthrough.StructFields;

/**
 * Istio's TCP {@code istio.metadata_exchange} ({@code envoy.tcp.metadataexchange.config.MetadataExchange}):
 * exchanges peer metadata in-band after the ALPN {@code protocol} (e.g. {@code istio-peer-exchange})
 * is negotiated. Accepted and passed through: no exchange is attempted, which is what Istio's
 * filter does too when the peer did not negotiate that protocol.
 */
public final class MetadataExchangeFactory extends OpaqueNetworkFilterFactory {
  public MetadataExchangeFactory() {
    super("istio.metadata_exchange", "type.googleapis.com/envoy.tcp.metadataexchange.config.MetadataExchange",
        "peer metadata exchange", "Istio peer metadata");
  }

  @Override
  protected void validate(Struct config) {
    StructFields.requireKind(config, "protocol", KindCase.STRING_VALUE, "");
    StructFields.requireKind(config, "enable_discovery", KindCase.BOOL_VALUE, "");
    StructFields.requireKind(config, "additional_labels", KindCase.LIST_VALUE, "");
  }
}
