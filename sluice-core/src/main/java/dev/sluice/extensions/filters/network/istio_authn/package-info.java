/** Istio's {@code istio_authn} network filter ({@code io.istio.network.authn.Config}), accepted as a pass-through. */
@NullMarked
package dev.sluice.extensions.filters.network.istio_authn;

import org.jspecify.annotations.NullMarked;
