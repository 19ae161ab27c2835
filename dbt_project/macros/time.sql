{#- Time helpers. LearnWorlds sends unix seconds (floats); HubSpot sends ISO strings. -#}

{% macro from_unix_seconds(expr) -%}
    {{ return(adapter.dispatch('from_unix_seconds', 'lmsbridge')(expr)) }}
{%- endmacro %}

{#- Null outside years 1900-9999, so a number that is no timestamp cannot fail the build. -#}
{% macro unix_seconds_in_range(expr) -%}
    ({{ expr }}) between -2208988800 and 253402300799
{%- endmacro %}

{% macro default__from_unix_seconds(expr) -%}
    case when {{ unix_seconds_in_range(expr) }} then
        {{ dbt.dateadd('microsecond', 'cast(round(' ~ expr ~ ' * 1000000) as bigint)', "cast('1970-01-01 00:00:00+00' as timestamp with time zone)") }}
    end
{%- endmacro %}

{% macro duckdb__from_unix_seconds(expr) -%}
    case when {{ unix_seconds_in_range(expr) }} then make_timestamptz(cast(round(({{ expr }}) * 1000000) as bigint)) end
{%- endmacro %}

{% macro spark__from_unix_seconds(expr) -%}
    case when {{ unix_seconds_in_range(expr) }} then timestamp_micros(cast(round(({{ expr }}) * 1000000) as bigint)) end
{%- endmacro %}

{#- Seconds since the epoch as a double (keeps microseconds): used for decay ages. -#}
{% macro epoch_seconds(expr) -%}
    {{ return(adapter.dispatch('epoch_seconds', 'lmsbridge')(expr)) }}
{%- endmacro %}

{% macro default__epoch_seconds(expr) -%}
    ({{ dbt.datediff("cast('1970-01-01 00:00:00+00' as timestamp with time zone)", expr, 'microsecond') }} / 1000000.0)
{%- endmacro %}

{% macro duckdb__epoch_seconds(expr) -%}
    (epoch_us({{ expr }}) / 1000000.0)
{%- endmacro %}

{% macro spark__epoch_seconds(expr) -%}
    (unix_micros({{ expr }}) / 1000000.0)
{%- endmacro %}

{#- Whole seconds since the epoch, floored: the event id's time component. -#}
{% macro epoch_second_floor(expr) -%}
    cast(floor({{ lmsbridge.epoch_seconds(expr) }}) as bigint)
{%- endmacro %}

{#- The UTC calendar date of a timestamptz, whatever the session time zone. -#}
{% macro utc_date(expr) -%}
    {{ return(adapter.dispatch('utc_date', 'lmsbridge')(expr)) }}
{%- endmacro %}

{% macro default__utc_date(expr) -%}
    cast({{ expr }} as date)
{%- endmacro %}

{% macro duckdb__utc_date(expr) -%}
    cast(timezone('UTC', {{ expr }}) as date)
{%- endmacro %}

{#- A Spark timestamp is an instant rendered in the session zone: shift it so the session
    zone shows the UTC wall clock, then take the date. -#}
{% macro spark__utc_date(expr) -%}
    cast(to_utc_timestamp({{ expr }}, current_timezone()) as date)
{%- endmacro %}

{#- Human-readable UTC timestamp for note bodies. -#}
{% macro utc_text(expr) -%}
    {{ return(adapter.dispatch('utc_text', 'lmsbridge')(expr)) }}
{%- endmacro %}

{% macro default__utc_text(expr) -%}
    {{ dbt.safe_cast(expr, dbt.type_string()) }}
{%- endmacro %}

{% macro duckdb__utc_text(expr) -%}
    strftime(timezone('UTC', {{ expr }}), '%Y-%m-%d %H:%M UTC')
{%- endmacro %}

{% macro spark__utc_text(expr) -%}
    date_format(to_utc_timestamp({{ expr }}, current_timezone()), "yyyy-MM-dd HH:mm 'UTC'")
{%- endmacro %}

{#- Cast an ISO-8601 string (or an already typed value) to timestamptz, null when unparseable. -#}
{% macro to_timestamptz(expr) -%}
    {{ lmsbridge.try_cast(expr, lmsbridge.type_timestamptz()) }}
{%- endmacro %}

{#- An instant (UTC-normalized) timestamp type. -#}
{% macro type_timestamptz() -%}
    {{ return(adapter.dispatch('type_timestamptz', 'lmsbridge')()) }}
{%- endmacro %}

{% macro default__type_timestamptz() -%}
    timestamp with time zone
{%- endmacro %}

{#- Spark's timestamp is already an instant (TIMESTAMP_LTZ); timestamp_ntz is the wall clock. -#}
{% macro spark__type_timestamptz() -%}
    timestamp
{%- endmacro %}

{#- An 8-byte float (dbt.type_float() is a 4-byte REAL on DuckDB). -#}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double', 'lmsbridge')()) }}
{%- endmacro %}

{% macro default__type_double() -%}
    {{ dbt.type_float() }}
{%- endmacro %}

{% macro duckdb__type_double() -%}
    double
{%- endmacro %}

{#- dbt.type_float() is a 4-byte FLOAT on Spark too. -#}
{% macro spark__type_double() -%}
    double
{%- endmacro %}

{#- ISO-8601 UTC text with milliseconds (2026-03-01T09:30:00.000Z): the form the two-way sync
    compares datetimes in, whichever side they come from. -#}
{% macro iso_utc_text(expr) -%}
    {{ return(adapter.dispatch('iso_utc_text', 'lmsbridge')(expr)) }}
{%- endmacro %}

{% macro default__iso_utc_text(expr) -%}
    {{ dbt.safe_cast(expr, dbt.type_string()) }}
{%- endmacro %}

{% macro duckdb__iso_utc_text(expr) -%}
    strftime(timezone('UTC', {{ expr }}), '%Y-%m-%dT%H:%M:%S.%gZ')
{%- endmacro %}

{% macro spark__iso_utc_text(expr) -%}
    date_format(to_utc_timestamp({{ expr }}, current_timezone()), "yyyy-MM-dd'T'HH:mm:ss.SSS'Z'")
{%- endmacro %}
