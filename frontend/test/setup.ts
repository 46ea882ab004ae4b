// Both dictionaries loaded before any test renders (the page loads its one in main.tsx).
import { beforeAll } from "vitest";
import { loadDictionary } from "../src/i18n/choose";

beforeAll(async () => {
  await Promise.all([loadDictionary("de"), loadDictionary("en")]);
});
