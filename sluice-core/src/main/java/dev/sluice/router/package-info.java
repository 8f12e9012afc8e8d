/** Envoy's RouteConfiguration compiled into an immutable route table: virtual hosts, matchers, actions. */
@NullMarked
package dev.sluice.router;

import org.jspecify.annotations.NullMarked;
