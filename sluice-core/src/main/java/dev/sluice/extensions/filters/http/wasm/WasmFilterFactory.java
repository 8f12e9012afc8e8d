package dev.sluice.extensions.filters.http.wasm;

import dev.sluice.api.FactoryContext;
import dev.sluice.api.config.ConfigException;
import dev.sluice.api.http.HttpFilter;
import dev.sluice.api.http.HttpFilterFactory;
import dev.sluice.extensions.filters.passthrough.PassThrough;
import io.envoyproxy.envoy.extensions.filters.http.wasm.v3.Wasm;
import io.envoyproxy.envoy.extensions.wasm.v3.PluginConfig;
import io.envoyproxy.envoy.extensions.wasm.v3.VmConfig;
import java.util.Map;
import java.util.function.Supplier;

/**
 * {@code envoy.filters.http.wasm}, as Istio uses it: plugins compiled into the proxy and run on the
 * null VM ({@code envoy.wasm.runtime.null}, the code naming the plugin). Sluice runs no Wasm, so
 * only Istio's built-in plugins are accepted, as pass-throughs; a real module (or an unknown
 * built-in) is refused rather than silently skipped, since it may carry policy.
 */
public final class WasmFilterFactory implements HttpFilterFactory<Wasm> {
  private static final String NULL_VM = "envoy.wasm.runtime.null";
  /** Istio's null-VM plugins: the code's inline string, with the work that owns each behaviour. */
  private static final Map<String, String> ISTIO_PLUGINS = Map.of(
      "envoy.wasm.metadata_exchange", "Istio peer metadata",
      "envoy.wasm.stats", "Istio telemetry");

  @Override
  public String name() {
    return "envoy.filters.http.wasm";
  }

  @Override
  public Class<Wasm> configType() {
    return Wasm.class;
  }

  @Override
  public Wasm defaultInstance() {
    return Wasm.getDefaultInstance();
  }

  @Override
  public Supplier<HttpFilter> create(Wasm config, String statPrefix, FactoryContext context) {
    PluginConfig plugin = config.getConfig();
    if (plugin.hasVmConfig()) {
      String owner = ISTIO_PLUGINS.get(builtInPlugin(plugin.getVmConfig()));
      PassThrough.announce("envoy.filters.http.wasm (" + plugin.getVmConfig().getCode().getLocal().getInlineString() + ")",
          "Wasm plugin behaviour", owner);
      return () -> PassThrough.HTTP_FILTER;
    }
    throw new ConfigException("config.vm_config", "a vm_config naming a built-in plugin is required");
  }

  /** The built-in plugin named by a null-VM config, known to Istio; else a ConfigException. */
  private static String builtInPlugin(VmConfig vm) {
    if (!vm.getRuntime().equals(NULL_VM)) {
      throw new ConfigException("config.vm_config.runtime",
          "runtime '" + vm.getRuntime() + "' is not supported: Sluice runs no Wasm, only Istio's built-in plugins on " + NULL_VM);
    }
    String code = vm.getCode().getLocal().getInlineString();
    if (!ISTIO_PLUGINS.containsKey(code)) {
      throw new ConfigException("config.vm_config.code.local.inline_string",
          "unknown built-in plugin '" + code + "' (known: " + String.join(", ", ISTIO_PLUGINS.keySet().stream().sorted().toList()) + ")");
    }
    return code;
  }
}
