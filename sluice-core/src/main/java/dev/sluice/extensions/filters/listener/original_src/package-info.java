/** {@code envoy.filters.listener.original_src}: upstream connections leave from the downstream's own address (TPROXY). */
@NullMarked
package dev.sluice.extensions.filters.listener.original_src;

import org.jspecify.annotations.NullMarked;
