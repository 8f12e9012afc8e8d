/** The {@code envoy.filters.http.wasm} HTTP filter, accepted for Istio's built-in null-VM plugins only, as a pass-through. */
@NullMarked
package dev.sluice.extensions.filters.http.wasm;

import org.jspecify.annotations.NullMarked;
