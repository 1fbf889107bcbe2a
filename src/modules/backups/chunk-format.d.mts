// Types of chunk-format.mjs for the TypeScript side (tsconfig.workers.json checks the JavaScript itself
// against its JSDoc; allowJs stays off in tsconfig.json, whose settings tsx also applies at run time).
export declare const CHUNK_BYTES: number;
export declare const TAG_BYTES: number;
export declare const RECORD_HEADER_BYTES: number;
export declare const RECORD: Readonly<{ part: number; chunk: number; final: number; manifest: number }>;
export declare function chunkNonce(partIndex: number, chunkIndex: number): Buffer;
export declare function chunkAad(partName: string, final: boolean): Buffer;
export declare function writeRecordHeader(target: Buffer, kind: number, length: number): void;
