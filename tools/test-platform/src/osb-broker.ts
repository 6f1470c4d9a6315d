/**
 * The test Open Service Broker (OSB v2.17) for e2e specs and benches. It lives in @paas/testing
 * (libs/testing/src/osb-broker.ts) so that the controller's integration specs can use it too (a
 * controller project may depend on shared libraries only); re-exported here for the e2e specs.
 */
export { TEST_BROKER_PLAN_IDS, TEST_BROKER_SERVICE_ID, TestOsbBroker, testBrokerCatalog, type RecordedRequest } from '@paas/testing';
