/** Listener and network filter SPI. */
@NullMarked
package dev.sluice.api.network;

import org.jspecify.annotations.NullMarked;
