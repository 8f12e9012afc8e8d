/** Access-log SPI. */
@NullMarked
package dev.sluice.api.accesslog;

import org.jspecify.annotations.NullMarked;
