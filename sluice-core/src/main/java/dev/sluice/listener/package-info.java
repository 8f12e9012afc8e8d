/** Workers, listeners, listener filters and filter-chain matching: the accept side of the proxy. */
@NullMarked
package dev.sluice.listener;

import org.jspecify.annotations.NullMarked;
