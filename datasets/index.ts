/**
 * datasets: versioned JSONL datasets with data cards and JSON Schemas, their loader and
 * verifier, and the seeded generators of the rule-labelled ones.
 */
export { DataCard, DatasetCase } from './card.js';
export { defaultDatasetsRoot, listDatasets, loadDataset, parseDatasetRef, parseJsonl, verifyDatasets, type Dataset, type DatasetCheck, type DatasetRef } from './dataset.js';
export { generateCases, generateDataset, generatorFor, type GenerateOptions } from './generate.js';
export { AWARD_RUBRIC, generators, type DatasetGenerator } from './generators/index.js';
export { ajvErrorField, compileJsonSchema } from './json-schema.js';
export { seededRandom, type Random } from './random.js';
export { toJsonl, writeDatasetVersion, type CardText } from './write.js';
