package dev.sluice.extensions.filters.http.istio_alpn;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import com.google.protobuf.Value.KindCase;
import dev.sluice.api.config.ConfigException;
import dev.sluice.extensions.filters.passthrough.OpaqueHttpFilterFactory;
import dev.sluice.extensions.filters.passthrough.StructFields;
import java.util.List;
import java.util.Set;

/**
 * Istio's {@code istio.alpn} HTTP filter ({@code istio.envoy.config.filter.http.alpn.v2alpha1.FilterConfig}):
 * overrides the ALPN offered to an upstream sidecar per upstream protocol ({@code istio-h2}...).
 * Accepted and passed through: upstream TLS offers the cluster's own ALPN list.
 */
public final class IstioAlpnFactory extends OpaqueHttpFilterFactory {
  private static final Set<String> PROTOCOLS = Set.of("HTTP10", "HTTP11", "HTTP2");

  public IstioAlpnFactory() {
    super("istio.alpn", "type.googleapis.com/istio.envoy.config.filter.http.alpn.v2alpha1.FilterConfig",
        "upstream ALPN override", "Istio mTLS");
  }

  @Override
  protected void validate(Struct config) {
    StructFields.requireKind(config, "alpn_override", KindCase.LIST_VALUE, "");
    List<Value> overrides = config.getFieldsOrDefault("alpn_override", Value.getDefaultInstance()).getListValue().getValuesList();
    for (int i = 0; i < overrides.size(); i++) {
      String path = "alpn_override[" + i + "]";
      if (!overrides.get(i).hasStructValue()) {
        throw new ConfigException(path, "expected an object");
      }
      Struct entry = overrides.get(i).getStructValue();
      StructFields.requireKind(entry, "upstream_protocol", KindCase.STRING_VALUE, path + ".");
      StructFields.requireKind(entry, "alpn_override", KindCase.LIST_VALUE, path + ".");
      Value protocol = entry.getFieldsMap().get("upstream_protocol");
      if (protocol != null && !PROTOCOLS.contains(protocol.getStringValue())) {
        throw new ConfigException(path + ".upstream_protocol", "unknown protocol '" + protocol.getStringValue() + "'");
      }
    }
  }
}
