/** {@code envoy.filters.http.on_demand}: on-demand virtual hosts (VHDS) for requests no virtual host matches. */
@NullMarked
package dev.sluice.extensions.filters.http.on_demand;

import org.jspecify.annotations.NullMarked;
