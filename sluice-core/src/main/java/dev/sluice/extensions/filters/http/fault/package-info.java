/** {@code envoy.filters.http.fault}: injected delays and aborts (Envoy's HTTP fault filter). */
@NullMarked
package dev.sluice.extensions.filters.http.fault;

import org.jspecify.annotations.NullMarked;
