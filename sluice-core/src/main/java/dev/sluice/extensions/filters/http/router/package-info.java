/** {@code envoy.filters.http.router}: the terminal HTTP filter that forwards to an upstream cluster. */
@NullMarked
package dev.sluice.extensions.filters.http.router;

import org.jspecify.annotations.NullMarked;
