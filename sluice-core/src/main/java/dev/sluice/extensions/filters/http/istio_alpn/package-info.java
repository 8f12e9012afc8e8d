/** Istio's {@code istio.alpn} HTTP filter, accepted as a pass-through. */
@NullMarked
package dev.sluice.extensions.filters.http.istio_alpn;

import org.jspecify.annotations.NullMarked;
