{#- Puts the number of unparseable source values in every build's output ("WARN n") without
    failing the build: the rows are still in the marts, only the bad values are null. The
    values themselves are in marts.data_quality_issues. -#}
{{ config(severity='warn') }}

select *
from {{ ref('data_quality_issues') }}
where severity = 'warn'
