package dev.sluice.rbac;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import dev.sluice.api.config.ConfigException;
import io.envoyproxy.envoy.config.rbac.v3.Permission;
import io.envoyproxy.envoy.config.rbac.v3.Principal;
import io.envoyproxy.envoy.config.rbac.v3.RBAC;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Each permission and principal kind, the actions, and config errors naming their field. */
class RbacMatchersTest {
  private static <T extends com.google.protobuf.Message.Builder> T parse(String json, T b) {
    try {
      JsonFormat.parser().merge(json, b);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalArgumentException(e);
    }
    return b;
  }

  private static RbacMatcher permission(String json) {
    return RbacMatchers.permission(parse(json, Permission.newBuilder()).build(), "p");
  }

  private static RbacMatcher principal(String json) {
    return RbacMatchers.principal(parse(json, Principal.newBuilder()).build(), "p");
  }

  private static final TestInput GET = TestInput.of(new DefaultHttp2Headers().method("GET").path("/api/v1?q=1#f").authority("h"));

  @Test
  void destinationAddressesAndPorts() {
    TestInput in = GET.withAddresses("10.1.2.3", "192.168.0.7", "10.244.0.10", 9080);
    assertThat(permission("{\"destination_ip\": {\"address_prefix\": \"10.244.0.0\", \"prefix_len\": 16}}").matches(in)).isTrue();
    assertThat(permission("{\"destination_ip\": {\"address_prefix\": \"10.245.0.0\", \"prefix_len\": 16}}").matches(in)).isFalse();
    assertThat(permission("{\"destination_ip\": {\"address_prefix\": \"::\", \"prefix_len\": 0}}").matches(in)).isFalse();
    assertThat(permission("{\"destination_port\": 9080}").matches(in)).isTrue();
    assertThat(permission("{\"destination_port_range\": {\"start\": 9000, \"end\": 9080}}").matches(in)).isFalse();
    assertThat(permission("{\"destination_port_range\": {\"start\": 9000, \"end\": 9081}}").matches(in)).isTrue();
  }

  @Test
  void remoteIpHonoursForwardedForAndDirectRemoteIpDoesNot() {
    TestInput in = GET.withAddresses("10.1.2.3", "192.168.0.7", "10.244.0.10", 9080);
    assertThat(principal("{\"remote_ip\": {\"address_prefix\": \"192.168.0.0\", \"prefix_len\": 24}}").matches(in)).isTrue();
    assertThat(principal("{\"direct_remote_ip\": {\"address_prefix\": \"192.168.0.0\", \"prefix_len\": 24}}").matches(in)).isFalse();
    assertThat(principal("{\"direct_remote_ip\": {\"address_prefix\": \"10.1.2.3\"}}").matches(in)).isTrue();
    assertThat(principal("{\"source_ip\": {\"address_prefix\": \"10.1.2.0\", \"prefix_len\": 29}}").matches(in)).isTrue();
  }

  @Test
  void headersAndUrlPathOnlyOnHttp() {
    String header = "{\"header\": {\"name\": \":method\", \"string_match\": {\"exact\": \"GET\"}}}";
    String path = "{\"url_path\": {\"path\": {\"exact\": \"/api/v1\"}}}";
    assertThat(permission(header).matches(GET)).isTrue();
    assertThat(permission(path).matches(GET)).isTrue();
    assertThat(permission(header).matches(TestInput.of(null))).isFalse();
    assertThat(permission(path).matches(TestInput.of(null))).isFalse();
    assertThat(principal("{\"header\": {\"name\": \"x-user\", \"present_match\": true}}").matches(GET)).isFalse();
  }

  @Test
  void setsAndNegation() {
    assertThat(permission("{\"and_rules\": {\"rules\": [{\"any\": true}, {\"destination_port\": 1}]}}").matches(GET)).isFalse();
    assertThat(permission("{\"or_rules\": {\"rules\": [{\"destination_port\": 1}, {\"any\": true}]}}").matches(GET)).isTrue();
    assertThat(permission("{\"not_rule\": {\"destination_port\": 1}}").matches(GET)).isTrue();
    assertThat(principal("{\"not_id\": {\"any\": true}}").matches(GET)).isFalse();
    assertThat(principal("{\"and_ids\": {\"ids\": [{\"any\": true}, {\"any\": true}]}}").matches(GET)).isTrue();
    assertThat(principal("{\"or_ids\": {\"ids\": [{\"not_id\": {\"any\": true}}]}}").matches(GET)).isFalse();
  }

  @Test
  void requestedServerName() {
    String sni = "{\"requested_server_name\": {\"suffix\": \".svc.cluster.local\"}}";
    assertThat(permission(sni).matches(GET.withSni("reviews.default.svc.cluster.local"))).isTrue();
    assertThat(permission(sni).matches(GET)).isFalse();
  }

  @Test
  void authenticatedNeedsTlsAndMatchesUriSanThenSubject() {
    TestInput mtls = GET.withPeer("spiffe://cluster.local/ns/default/sa/sleep");
    assertThat(principal("{\"authenticated\": {}}").matches(mtls)).isTrue();
    assertThat(principal("{\"authenticated\": {}}").matches(GET)).isFalse();
    assertThat(principal("{\"authenticated\": {\"principal_name\": {\"exact\": \"spiffe://cluster.local/ns/default/sa/sleep\"}}}").matches(mtls)).isTrue();
    assertThat(principal("{\"authenticated\": {\"principal_name\": {\"exact\": \"CN=peer\"}}}").matches(mtls)).isTrue();
    assertThat(principal("{\"authenticated\": {\"principal_name\": {\"prefix\": \"spiffe://other/\"}}}").matches(mtls)).isFalse();
  }

  @Test
  void metadataInvertMatchesAbsence() {
    String m = "{\"metadata\": {\"filter\": \"istio_authn\", \"path\": [{\"key\": \"source.principal\"}], \"value\": {\"string_match\": {\"exact\": \"x\"}}%s}}";
    assertThat(principal(m.formatted("")).matches(GET)).isFalse();
    assertThat(principal(m.formatted(", \"invert\": true")).matches(GET)).isTrue();
  }

  @Test
  void actionsAndPolicyOrder() {
    String policies = "\"policies\": {\"b\": {\"permissions\": [{\"any\": true}], \"principals\": [{\"any\": true}]},"
        + " \"a\": {\"permissions\": [{\"destination_port\": 9080}], \"principals\": [{\"any\": true}]}}";
    RbacEngine allow = RbacEngine.compile(parse("{" + policies + "}", RBAC.newBuilder()).build(), "rules");
    assertThat(allow.evaluate(GET)).isEqualTo(new RbacEngine.Decision(true, "a"));
    RbacEngine deny = RbacEngine.compile(parse("{\"action\": \"DENY\", " + policies + "}", RBAC.newBuilder()).build(), "rules");
    assertThat(deny.evaluate(GET)).isEqualTo(new RbacEngine.Decision(false, "a"));
    assertThat(RbacEngine.deniedDetails(deny.evaluate(GET))).isEqualTo("rbac_access_denied_matched_policy[a]");
    RbacEngine log = RbacEngine.compile(parse("{\"action\": \"LOG\", " + policies + "}", RBAC.newBuilder()).build(), "rules");
    assertThat(log.evaluate(GET).allowed()).isTrue();
    RbacEngine empty = RbacEngine.compile(RBAC.getDefaultInstance(), "rules");
    assertThat(RbacEngine.deniedDetails(empty.evaluate(GET))).isEqualTo("rbac_access_denied_matched_policy[none]");
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "{\"policies\": {\"p\": {\"principals\": [{\"any\": true}]}}}                                        | rules.policies[p].permissions",
      "{\"policies\": {\"p\": {\"permissions\": [{\"any\": true}]}}}                                       | rules.policies[p].principals",
      "{\"policies\": {\"p\": {\"permissions\": [{\"any\": false}], \"principals\": [{\"any\": true}]}}}   | rules.policies[p].permissions[0].any",
      "{\"policies\": {\"p\": {\"permissions\": [{\"and_rules\": {}}], \"principals\": [{\"any\": true}]}}} | rules.policies[p].permissions[0].and_rules.rules",
      "{\"policies\": {\"p\": {\"permissions\": [{\"destination_ip\": {\"address_prefix\": \"nope\"}}], \"principals\": [{\"any\": true}]}}} | rules.policies[p].permissions[0].destination_ip.address_prefix",
      "{\"policies\": {\"p\": {\"permissions\": [{\"any\": true}], \"principals\": [{\"or_ids\": {\"ids\": [{\"header\": {\"name\": \"x\", \"safe_regex_match\": {\"regex\": \"(\"}}}]}}]}}} | rules.policies[p].principals[0].or_ids.ids[0].header.safe_regex_match.regex",
      "{\"policies\": {\"p\": {\"permissions\": [{\"any\": true}], \"principals\": [{\"filter_state\": {\"key\": \"k\", \"address_match\": {}}}]}}} | rules.policies[p].principals[0].filter_state",
      "{\"policies\": {\"p\": {\"permissions\": [{\"any\": true}], \"principals\": [{\"any\": true}], \"condition\": {\"const_expr\": {\"bool_value\": true}}}}} | rules.policies[p].condition",
  })
  void badPoliciesNameTheirField(String json, String field) {
    RBAC rbac = parse(json, RBAC.newBuilder()).build();
    assertThatThrownBy(() -> RbacEngine.compile(rbac, "rules"))
        .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.fieldPath()).startsWith(field));
  }

  @Test
  void tlsPeerWithoutCertificateHasNoPrincipal() {
    assertThat(new TlsPeer(List.of(), List.of(), "", null).peerPrincipal()).isNull();
  }
}
