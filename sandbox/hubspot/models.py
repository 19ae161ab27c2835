"""Request bodies. Pydantic rejects wrong types; the 422 handler turns that into HubSpot's 400."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

PropValue = str | int | float | bool | None


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore")


class ObjectRef(_Body):
    id: str | int


class AssociationTypeSpec(_Body):
    associationCategory: str = "HUBSPOT_DEFINED"
    associationTypeId: int


class InlineAssociation(_Body):
    to: ObjectRef
    types: list[AssociationTypeSpec]


class CreateInput(_Body):
    properties: dict[str, PropValue] = Field(default_factory=dict)
    associations: list[InlineAssociation] = Field(default_factory=list)
    objectWriteTraceId: str | None = None


class UpdateInput(_Body):
    properties: dict[str, PropValue] = Field(default_factory=dict)


class BatchUpdateInput(_Body):
    id: str | int
    idProperty: str | None = None
    properties: dict[str, PropValue] = Field(default_factory=dict)
    objectWriteTraceId: str | None = None


class BatchCreateBody(_Body):
    inputs: list[CreateInput] | None = None


class BatchUpdateBody(_Body):
    inputs: list[BatchUpdateInput] | None = None


class BatchReadBody(_Body):
    inputs: list[ObjectRef] | None = None
    properties: list[str] = Field(default_factory=list)
    propertiesWithHistory: list[str] = Field(default_factory=list)
    idProperty: str | None = None


class BatchArchiveBody(_Body):
    inputs: list[ObjectRef] | None = None


class MergeBody(_Body):
    primaryObjectId: str | int
    objectIdToMerge: str | int


class GdprDeleteBody(_Body):
    objectId: str | int
    idProperty: str | None = None


class OptionIn(_Body):
    label: str
    value: str
    displayOrder: int = -1
    hidden: bool = False
    description: str | None = None


class PropertyCreateBody(_Body):
    name: str
    label: str
    type: str
    fieldType: str
    groupName: str
    description: str = ""
    displayOrder: int = -1
    options: list[OptionIn] = Field(default_factory=list)
    hasUniqueValue: bool = False
    hidden: bool = False
    formField: bool = False
    externalOptions: bool = False
    referencedObjectType: str | None = None
    calculationFormula: str | None = None


class PropertyUpdateBody(_Body):
    label: str | None = None
    type: str | None = None
    fieldType: str | None = None
    groupName: str | None = None
    description: str | None = None
    displayOrder: int | None = None
    options: list[OptionIn] | None = None
    hidden: bool | None = None
    formField: bool | None = None


class PropertyBatchCreateBody(_Body):
    inputs: list[PropertyCreateBody] | None = None


class PropertyName(_Body):
    name: str


class PropertyBatchReadBody(_Body):
    inputs: list[PropertyName] | None = None
    archived: bool = False


class GroupCreateBody(_Body):
    name: str
    label: str
    displayOrder: int = -1


class GroupUpdateBody(_Body):
    label: str | None = None
    displayOrder: int | None = None


class AssocReadInput(_Body):
    id: str | int
    after: str | None = None


class AssocReadBody(_Body):
    inputs: list[AssocReadInput] | None = None


class AssocCreateInput(_Body):
    from_: ObjectRef = Field(alias="from")
    to: ObjectRef
    types: list[AssociationTypeSpec] = Field(default_factory=list)


class AssocCreateBody(_Body):
    inputs: list[AssocCreateInput] | None = None


class AssocArchiveInput(_Body):
    from_: ObjectRef = Field(alias="from")
    to: list[ObjectRef]


class AssocArchiveBody(_Body):
    inputs: list[AssocArchiveInput] | None = None


def as_id(value: Any) -> str:
    return str(value).strip()
