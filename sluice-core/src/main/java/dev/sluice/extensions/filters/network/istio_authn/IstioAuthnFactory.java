package dev.sluice.extensions.filters.network.istio_authn;

import dev.sluice.extensions.filters.passthrough.OpaqueNetworkFilterFactory;

/**
 * Istio's {@code istio_authn} network filter ({@code io.istio.network.authn.Config}, carried in a
 * TypedStruct): records the mTLS peer identity for later filters. Its config has no fields.
 * Accepted and passed through; the peer identity belongs to the Istio authentication work.
 */
public final class IstioAuthnFactory extends OpaqueNetworkFilterFactory {
  public IstioAuthnFactory() {
    super("istio_authn", "type.googleapis.com/io.istio.network.authn.Config",
        "peer identity recording", "Istio authentication");
  }
}
