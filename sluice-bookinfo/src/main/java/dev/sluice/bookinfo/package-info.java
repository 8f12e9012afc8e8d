/** Istio's Bookinfo sample application in Java: productpage, details, reviews v1/v2/v3, ratings. */
@NullMarked
package dev.sluice.bookinfo;

import org.jspecify.annotations.NullMarked;
