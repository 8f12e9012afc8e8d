/** The {@code envoy.filters.http.cors} HTTP filter: CORS preflights answered locally, allow-* headers added. */
@NullMarked
package dev.sluice.extensions.filters.http.cors;

import org.jspecify.annotations.NullMarked;
