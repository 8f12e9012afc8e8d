/** The extension SPI: factories for listener, network and HTTP filters, registered by type URL. */
@NullMarked
package dev.sluice.api;

import org.jspecify.annotations.NullMarked;
