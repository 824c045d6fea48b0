package athena

// Manifest describes a committed output: what was written and from what.
// It is written last; its presence marks the output complete.
type Manifest struct {
	Version  int                    `json:"version"` // of this layout, now 1
	RunID    string                 `json:"run_id"`
	Tool     string                 `json:"tool"` // "flowlens <version>"
	Started  string                 `json:"started"`
	Finished string                 `json:"finished"`
	Tables   []TableManifest        `json:"tables"`
	Files    []FileManifest         `json:"files,omitempty"` // files beside the tables (findings.jsonl)
	Inputs   []InputManifest        `json:"inputs"`
	Totals   ManifestTotals         `json:"totals"`
	Extra    map[string]any         `json:"extra,omitempty"`
	Columns  map[string][]DDLColumn `json:"columns,omitempty"` // table name → its columns, as in the DDL
}

// ExtraInternalCIDRs is the Extra entry listing the address ranges the run
// counted as internal besides the private ones (--internal-cidr), so that
// what reads the output later (the report) counts them alike.
const ExtraInternalCIDRs = "internal_cidrs"

// TableManifest lists the files of one table.
type TableManifest struct {
	Name  string         `json:"name"`
	Dir   string         `json:"dir"` // relative to the output directory
	Rows  int64          `json:"rows"`
	Bytes int64          `json:"bytes"`
	Files []FileManifest `json:"files"`
}

// FileManifest describes one output file.
type FileManifest struct {
	Table  string `json:"table"`
	Path   string `json:"path"` // relative to the output directory, with '/'
	Rows   int64  `json:"rows"`
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256"`
}

// InputManifest describes one input and what became of it.
type InputManifest struct {
	Path         string `json:"path"`
	Kind         string `json:"kind"`
	Format       string `json:"format,omitempty"`
	Records      int64  `json:"records"`
	InvalidLines int64  `json:"invalid_lines"`
	OutOfRange   int64  `json:"out_of_range,omitempty"` // records skipped for a start outside --start/--end
	TextBytes    int64  `json:"text_bytes"`
	StoredBytes  int64  `json:"stored_bytes"`
	Error        string `json:"error,omitempty"`
	// Warnings say what was read otherwise than the input's format alone
	// tells (unknown fields, a header naming other fields part way).
	Warnings []string `json:"warnings,omitempty"`
}

// ManifestTotals sums the inputs and outputs.
type ManifestTotals struct {
	Inputs       int   `json:"inputs"`
	FailedInputs int   `json:"failed_inputs"`
	Records      int64 `json:"records"`
	InvalidLines int64 `json:"invalid_lines"`
	OutOfRange   int64 `json:"out_of_range,omitempty"`
	TextBytes    int64 `json:"text_bytes"`
	OutputFiles  int   `json:"output_files"`
	OutputBytes  int64 `json:"output_bytes"`
}
