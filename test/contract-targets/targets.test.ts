/**
 * The target contract (contract.ts) against every target; worlds.ts opens each on a fresh world.
 * A new target is one more line here (and its world in worlds.ts).
 */
import { targetContract } from './contract.js';
import { CLOUD_TRAITS, cloudWorld, DATA_CENTER_TRAITS, dataCenterWorld, dataCenterWorldWith, LOCAL_TRAITS, localWorld, MEMORY_TRAITS, memoryWorld } from './worlds.js';

targetContract('in-memory (test/support/memory-target.ts)', memoryWorld, MEMORY_TRAITS);
targetContract('local store (src/targets/local)', localWorld, LOCAL_TRAITS);
targetContract('JSM Data Center over REST (src/targets/rest, the double over HTTP)', dataCenterWorld, DATA_CENTER_TRAITS);
targetContract('JSM Data Center under /jira, in German, duplicates answered 409', dataCenterWorldWith({ contextPath: '/jira', language: 'de', duplicateStatus: 409 }), DATA_CENTER_TRAITS);
targetContract('JSM Cloud over REST (src/targets/cloud, the Cloud double over HTTP)', cloudWorld, CLOUD_TRAITS);
