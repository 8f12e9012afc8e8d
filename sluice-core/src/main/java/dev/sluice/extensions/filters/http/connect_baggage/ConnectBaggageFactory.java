package dev.sluice.extensions.filters.http.connect_baggage;

import dev.sluice.extensions.filters.passthrough.OpaqueHttpFilterFactory;

/**
 * Istio's {@code connect_baggage} ({@code io.istio.http.connect_baggage.Config}): reads the
 * {@code baggage} header of an HBONE CONNECT request into the peer metadata Istio's telemetry
 * reports. Accepted and passed through (telemetry filters are pass-throughs in Sluice).
 */
public final class ConnectBaggageFactory extends OpaqueHttpFilterFactory {
  public ConnectBaggageFactory() {
    super("connect_baggage", "type.googleapis.com/io.istio.http.connect_baggage.Config",
        "baggage peer metadata", "Istio telemetry");
  }
}
