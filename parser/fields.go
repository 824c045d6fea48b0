package parser

import "strings"

// Kind is how a field's text is parsed and stored.
type Kind uint8

// The field kinds. Their storage layout follows Arrow: Int32 and Int64 are
// fixed-width integers, String is offsets plus bytes, IP is a 16-byte value
// (IPv4 stored IPv4-mapped, as netip.Addr.As16 does).
const (
	KindString Kind = iota
	KindInt32
	KindInt64
	KindIP
)

// String returns the kind's lowercase name.
func (k Kind) String() string {
	switch k {
	case KindInt32:
		return "int32"
	case KindInt64:
		return "int64"
	case KindIP:
		return "ip"
	default:
		return "string"
	}
}

// FieldID identifies a known flow-log field. Unknown header fields have
// FieldUnknown and are carried as strings under their own name.
type FieldID uint8

// Field describes one flow-log field of the registry.
type Field struct {
	ID      FieldID
	Name    string // the ${name} spelling, hyphenated: "log-status"
	Column  string // the Parquet and Athena column name: "log_status"
	Kind    Kind
	Version int // the record version in which the field appeared
	// Max is the largest valid value of an integer field (0: the type's maximum).
	Max int64
}

// The registry's field identifiers, in AWS's table order (VPC fields, then the
// Transit Gateway ones). FieldUnknown marks a pass-through column.
const (
	FieldUnknown FieldID = iota
	FieldVersion
	FieldAccountID
	FieldInterfaceID
	FieldSrcAddr
	FieldDstAddr
	FieldSrcPort
	FieldDstPort
	FieldProtocol
	FieldPackets
	FieldBytes
	FieldStart
	FieldEnd
	FieldAction
	FieldLogStatus
	FieldVPCID
	FieldSubnetID
	FieldInstanceID
	FieldTCPFlags
	FieldType
	FieldPktSrcAddr
	FieldPktDstAddr
	FieldRegion
	FieldAZID
	FieldSublocationType
	FieldSublocationID
	FieldPktSrcAWSService
	FieldPktDstAWSService
	FieldFlowDirection
	FieldTrafficPath
	FieldECSClusterARN
	FieldECSClusterName
	FieldECSContainerInstanceARN
	FieldECSContainerInstanceID
	FieldECSContainerID
	FieldECSSecondContainerID
	FieldECSServiceName
	FieldECSTaskDefinitionARN
	FieldECSTaskARN
	FieldECSTaskID
	FieldRejectReason
	FieldResourceID
	FieldEncryptionStatus
	FieldInstanceTag
	FieldInstanceTag2
	FieldInterfaceTag
	FieldInterfaceTag2
	FieldASGTag
	FieldASGTag2
	FieldInterfaceType
	FieldNextHopInterfaceID
	FieldNextHopSubnetID
	FieldNextHopAZID
	FieldNextHopVPCID
	FieldNextHopInterfaceType
	FieldResourceType
	FieldTGWID
	FieldTGWAttachmentID
	FieldTGWSrcVPCAccountID
	FieldTGWDstVPCAccountID
	FieldTGWSrcVPCID
	FieldTGWDstVPCID
	FieldTGWSrcSubnetID
	FieldTGWDstSubnetID
	FieldTGWSrcENI
	FieldTGWDstENI
	FieldTGWSrcAZID
	FieldTGWDstAZID
	FieldTGWPairAttachmentID
	FieldPacketsLostNoRoute
	FieldPacketsLostBlackhole
	FieldPacketsLostMTUExceeded
	FieldPacketsLostTTLExpired
	numFields
)

const (
	maxPort     = 65535
	maxProtocol = 255
)

// registry lists every known field; index i holds FieldID i.
var registry = [numFields]Field{
	FieldUnknown:                 {},
	FieldVersion:                 {Name: "version", Kind: KindInt32, Version: 2},
	FieldAccountID:               {Name: "account-id", Kind: KindString, Version: 2},
	FieldInterfaceID:             {Name: "interface-id", Kind: KindString, Version: 2},
	FieldSrcAddr:                 {Name: "srcaddr", Kind: KindIP, Version: 2},
	FieldDstAddr:                 {Name: "dstaddr", Kind: KindIP, Version: 2},
	FieldSrcPort:                 {Name: "srcport", Kind: KindInt32, Version: 2, Max: maxPort},
	FieldDstPort:                 {Name: "dstport", Kind: KindInt32, Version: 2, Max: maxPort},
	FieldProtocol:                {Name: "protocol", Kind: KindInt32, Version: 2, Max: maxProtocol},
	FieldPackets:                 {Name: "packets", Kind: KindInt64, Version: 2},
	FieldBytes:                   {Name: "bytes", Kind: KindInt64, Version: 2},
	FieldStart:                   {Name: "start", Kind: KindInt64, Version: 2},
	FieldEnd:                     {Name: "end", Kind: KindInt64, Version: 2},
	FieldAction:                  {Name: "action", Kind: KindString, Version: 2},
	FieldLogStatus:               {Name: "log-status", Kind: KindString, Version: 2},
	FieldVPCID:                   {Name: "vpc-id", Kind: KindString, Version: 3},
	FieldSubnetID:                {Name: "subnet-id", Kind: KindString, Version: 3},
	FieldInstanceID:              {Name: "instance-id", Kind: KindString, Version: 3},
	FieldTCPFlags:                {Name: "tcp-flags", Kind: KindInt32, Version: 3},
	FieldType:                    {Name: "type", Kind: KindString, Version: 3},
	FieldPktSrcAddr:              {Name: "pkt-srcaddr", Kind: KindIP, Version: 3},
	FieldPktDstAddr:              {Name: "pkt-dstaddr", Kind: KindIP, Version: 3},
	FieldRegion:                  {Name: "region", Kind: KindString, Version: 4},
	FieldAZID:                    {Name: "az-id", Kind: KindString, Version: 4},
	FieldSublocationType:         {Name: "sublocation-type", Kind: KindString, Version: 4},
	FieldSublocationID:           {Name: "sublocation-id", Kind: KindString, Version: 4},
	FieldPktSrcAWSService:        {Name: "pkt-src-aws-service", Kind: KindString, Version: 5},
	FieldPktDstAWSService:        {Name: "pkt-dst-aws-service", Kind: KindString, Version: 5},
	FieldFlowDirection:           {Name: "flow-direction", Kind: KindString, Version: 5},
	FieldTrafficPath:             {Name: "traffic-path", Kind: KindInt32, Version: 5},
	FieldECSClusterARN:           {Name: "ecs-cluster-arn", Kind: KindString, Version: 7},
	FieldECSClusterName:          {Name: "ecs-cluster-name", Kind: KindString, Version: 7},
	FieldECSContainerInstanceARN: {Name: "ecs-container-instance-arn", Kind: KindString, Version: 7},
	FieldECSContainerInstanceID:  {Name: "ecs-container-instance-id", Kind: KindString, Version: 7},
	FieldECSContainerID:          {Name: "ecs-container-id", Kind: KindString, Version: 7},
	FieldECSSecondContainerID:    {Name: "ecs-second-container-id", Kind: KindString, Version: 7},
	FieldECSServiceName:          {Name: "ecs-service-name", Kind: KindString, Version: 7},
	FieldECSTaskDefinitionARN:    {Name: "ecs-task-definition-arn", Kind: KindString, Version: 7},
	FieldECSTaskARN:              {Name: "ecs-task-arn", Kind: KindString, Version: 7},
	FieldECSTaskID:               {Name: "ecs-task-id", Kind: KindString, Version: 7},
	FieldRejectReason:            {Name: "reject-reason", Kind: KindString, Version: 8},
	FieldResourceID:              {Name: "resource-id", Kind: KindString, Version: 9},
	FieldEncryptionStatus:        {Name: "encryption-status", Kind: KindString, Version: 10},
	FieldInstanceTag:             {Name: "instance-tag", Kind: KindString, Version: 11},
	FieldInstanceTag2:            {Name: "instance-tag-2", Kind: KindString, Version: 11},
	FieldInterfaceTag:            {Name: "interface-tag", Kind: KindString, Version: 11},
	FieldInterfaceTag2:           {Name: "interface-tag-2", Kind: KindString, Version: 11},
	FieldASGTag:                  {Name: "asg-tag", Kind: KindString, Version: 11},
	FieldASGTag2:                 {Name: "asg-tag-2", Kind: KindString, Version: 11},
	FieldInterfaceType:           {Name: "interface-type", Kind: KindString, Version: 11},
	FieldNextHopInterfaceID:      {Name: "next-hop-interface-id", Kind: KindString, Version: 11},
	FieldNextHopSubnetID:         {Name: "next-hop-subnet-id", Kind: KindString, Version: 11},
	FieldNextHopAZID:             {Name: "next-hop-az-id", Kind: KindString, Version: 11},
	FieldNextHopVPCID:            {Name: "next-hop-vpc-id", Kind: KindString, Version: 11},
	FieldNextHopInterfaceType:    {Name: "next-hop-interface-type", Kind: KindString, Version: 11},
	FieldResourceType:            {Name: "resource-type", Kind: KindString, Version: 6},
	FieldTGWID:                   {Name: "tgw-id", Kind: KindString, Version: 6},
	FieldTGWAttachmentID:         {Name: "tgw-attachment-id", Kind: KindString, Version: 6},
	FieldTGWSrcVPCAccountID:      {Name: "tgw-src-vpc-account-id", Kind: KindString, Version: 6},
	FieldTGWDstVPCAccountID:      {Name: "tgw-dst-vpc-account-id", Kind: KindString, Version: 6},
	FieldTGWSrcVPCID:             {Name: "tgw-src-vpc-id", Kind: KindString, Version: 6},
	FieldTGWDstVPCID:             {Name: "tgw-dst-vpc-id", Kind: KindString, Version: 6},
	FieldTGWSrcSubnetID:          {Name: "tgw-src-subnet-id", Kind: KindString, Version: 6},
	FieldTGWDstSubnetID:          {Name: "tgw-dst-subnet-id", Kind: KindString, Version: 6},
	FieldTGWSrcENI:               {Name: "tgw-src-eni", Kind: KindString, Version: 6},
	FieldTGWDstENI:               {Name: "tgw-dst-eni", Kind: KindString, Version: 6},
	FieldTGWSrcAZID:              {Name: "tgw-src-az-id", Kind: KindString, Version: 6},
	FieldTGWDstAZID:              {Name: "tgw-dst-az-id", Kind: KindString, Version: 6},
	FieldTGWPairAttachmentID:     {Name: "tgw-pair-attachment-id", Kind: KindString, Version: 6},
	FieldPacketsLostNoRoute:      {Name: "packets-lost-no-route", Kind: KindInt64, Version: 6},
	FieldPacketsLostBlackhole:    {Name: "packets-lost-blackhole", Kind: KindInt64, Version: 6},
	FieldPacketsLostMTUExceeded:  {Name: "packets-lost-mtu-exceeded", Kind: KindInt64, Version: 6},
	FieldPacketsLostTTLExpired:   {Name: "packets-lost-ttl-expired", Kind: KindInt64, Version: 6},
}

var fieldByName = map[string]FieldID{}

func init() {
	for id := FieldID(1); id < numFields; id++ {
		f := &registry[id]
		f.ID = id
		f.Column = strings.ReplaceAll(f.Name, "-", "_")
		fieldByName[f.Name] = id
	}
}

// Fields returns every known field in registry order (VPC fields of versions
// 2 to 11, then the Transit Gateway fields). The slice is a copy.
func Fields() []Field {
	out := make([]Field, 0, numFields-1)
	for id := FieldID(1); id < numFields; id++ {
		out = append(out, registry[id])
	}
	return out
}

// LookupField returns the field registered under name, which may be spelled
// with hyphens or underscores ("log-status", "log_status") in any case.
func LookupField(name string) (Field, bool) {
	id, ok := fieldByName[canonicalName(name)]
	if !ok {
		return Field{}, false
	}
	return registry[id], true
}

// FieldByID returns the registry entry of id.
func FieldByID(id FieldID) Field { return registry[id] }

// canonicalName lowercases name and spells it with hyphens.
func canonicalName(name string) string {
	return strings.ReplaceAll(strings.ToLower(name), "_", "-")
}
