package dev.sluice.it.bookinfo;

import java.util.List;
import java.util.stream.IntStream;
import org.jspecify.annotations.Nullable;

/**
 * {@link BookinfoScenarios} on {@code sluice demo bookinfo} in explicit mode (the default, no root).
 * The gateway's listener is {@value #GATEWAY_PORT}, the port of the sample's
 * {@code bookinfo-gateway.yaml}, and the proxies' admin addresses are fixed (127.0.0.1:15000 for
 * the gateway, 127.0.1.x:15000 and :15001 for the sidecars): while another demo holds them the
 * test waits. Needs only the packaged distribution and the JDK.
 */
class BookinfoDemoTest extends BookinfoScenarios {
  private static final int GATEWAY_PORT = 8080;
  private static final int GATEWAY_ADMIN_PORT = 15000;

  @Override
  protected @Nullable String unsupported() {
    return null; // explicit mode runs wherever the distribution does
  }

  @Override
  protected @Nullable String busy() {
    return IntStream.of(GATEWAY_PORT, GATEWAY_ADMIN_PORT).filter(BookinfoScenarios::inUse).mapToObj(p -> "127.0.0.1:" + p)
        .findFirst().orElse(null);
  }

  @Override
  protected List<String> modeOptions(int freePort) {
    return List.of();
  }

  @Override
  protected int gatewayPort(int freePort) {
    return GATEWAY_PORT;
  }
}
