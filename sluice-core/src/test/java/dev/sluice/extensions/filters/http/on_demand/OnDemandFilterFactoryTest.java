package dev.sluice.extensions.filters.http.on_demand;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.accesslog.TestFactoryContext;
import dev.sluice.api.ExtensionFactory;
import dev.sluice.api.config.ConfigException;
import io.envoyproxy.envoy.config.core.v3.AggregatedConfigSource;
import io.envoyproxy.envoy.config.core.v3.ConfigSource;
import io.envoyproxy.envoy.extensions.filters.http.on_demand.v3.OnDemand;
import io.envoyproxy.envoy.extensions.filters.http.on_demand.v3.OnDemandCds;
import io.envoyproxy.envoy.extensions.filters.http.on_demand.v3.PerRouteConfig;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;

/** The factory is found as Envoy names it; on-demand CDS is refused by field rather than ignored. */
class OnDemandFilterFactoryTest {
  private final OnDemandFilterFactory factory = new OnDemandFilterFactory();
  private final TestFactoryContext context = new TestFactoryContext();

  @Test
  void registeredUnderEnvoysNameAndConfigType() {
    assertThat(ServiceLoader.load(ExtensionFactory.class).stream().map(ServiceLoader.Provider::get))
        .anySatisfy(f -> {
          assertThat(f).isInstanceOf(OnDemandFilterFactory.class);
          assertThat(f.name()).isEqualTo("envoy.filters.http.on_demand");
          assertThat(f.typeUrl()).isEqualTo("type.googleapis.com/envoy.extensions.filters.http.on_demand.v3.OnDemand");
        });
    assertThat(factory.create(OnDemand.getDefaultInstance(), "http.in.", context).get()).isInstanceOf(OnDemandFilter.class);
  }

  @Test
  void onDemandCdsIsRefused() {
    OnDemandCds odcds = OnDemandCds.newBuilder()
        .setSource(ConfigSource.newBuilder().setAds(AggregatedConfigSource.getDefaultInstance())).build();
    assertThatThrownBy(() -> factory.create(OnDemand.newBuilder().setOdcds(odcds).build(), "http.in.", context))
        .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.fieldPath()).isEqualTo("odcds"));
    assertThatThrownBy(() -> factory.createRouteSpecificConfig(PerRouteConfig.newBuilder().setOdcds(odcds).build(), context))
        .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.fieldPath()).isEqualTo("odcds"));
    PerRouteConfig plain = PerRouteConfig.getDefaultInstance();
    assertThat(factory.createRouteSpecificConfig(plain, context)).isSameAs(plain);
  }
}
