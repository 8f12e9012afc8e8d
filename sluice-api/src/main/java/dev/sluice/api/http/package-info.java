/** HTTP filter SPI: the stream model every codec is bridged into. */
@NullMarked
package dev.sluice.api.http;

import org.jspecify.annotations.NullMarked;
