/** Istio's {@code connect_baggage} HTTP filter on HBONE's {@code connect_terminate} listener. */
@NullMarked
package dev.sluice.extensions.filters.http.connect_baggage;

import org.jspecify.annotations.NullMarked;
