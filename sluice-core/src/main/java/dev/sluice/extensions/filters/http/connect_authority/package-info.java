/** Istio's {@code connect_authority} HTTP filter on HBONE's {@code connect_terminate} listener. */
@NullMarked
package dev.sluice.extensions.filters.http.connect_authority;

import org.jspecify.annotations.NullMarked;
