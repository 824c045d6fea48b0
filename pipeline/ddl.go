package pipeline

import (
	"slices"

	"github.com/flowlens/flowlens/aggregate"
	"github.com/flowlens/flowlens/athena"
	"github.com/flowlens/flowlens/detect"
)

// TablesDDL returns the tables a default run writes, each with every
// column it can have, for `flowlens ddl` when no output gives them: the
// flows table with every known flow-log field (absent ones read as NULL),
// the aggregate tables and the findings table.
func TablesDDL() ([]athena.TableDDL, error) {
	ddls := []athena.TableDDL{{Name: athena.FlowsTable, Dir: athena.FlowsTable, Columns: athena.FlowsDDLColumns(nil)}}
	for _, name := range aggregate.Tables {
		cols, err := athena.SchemaDDLColumns(aggregate.Schemas[name], "region")
		if err != nil {
			return nil, err
		}
		ddls = append(ddls, athena.TableDDL{Name: name, Dir: athena.AggregateDir(name), Columns: cols})
	}
	cols, err := athena.SchemaDDLColumns(detect.FindingsSchema, "region")
	if err != nil {
		return nil, err
	}
	return append(ddls, athena.TableDDL{Name: FindingsTable, Dir: FindingsTable, Columns: cols}), nil
}

// widen returns the tables of all with the columns of written added (the
// unknown fields some inputs had), written's regions, and no first date:
// the DDL of one shard's output, valid for the whole job's.
func widen(all, written []athena.TableDDL) []athena.TableDDL {
	for i := range all {
		t := &all[i]
		for _, w := range written {
			if w.Name != t.Name {
				continue
			}
			t.Regions = w.Regions
			for _, c := range w.Columns {
				if !slices.Contains(t.Columns, c) {
					t.Columns = append(t.Columns, c)
				}
			}
		}
	}
	return all
}
