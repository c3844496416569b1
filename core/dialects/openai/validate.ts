import { GatewayError } from '../../errors.ts'
import { isObject, type Json } from '../../internal/json.ts'

/**
 * Small readers for OpenAI request fields. OpenAI treats `null` like an absent optional field, so do we; a value of
 * the wrong type or out of range is a 400 naming the field (`param`), in OpenAI's own wording.
 */

export function invalid(param: string, message: string): GatewayError {
  return new GatewayError(400, `Invalid value for '${param}': ${message}`, { param })
}

export function missing(param: string): GatewayError {
  return new GatewayError(400, `Missing required parameter: '${param}'.`, { param })
}

interface NumberRule {
  min?: number
  max?: number
  integer?: boolean
}

export function optNumber(body: Json, name: string, rule: NumberRule = {}, param = name): number | undefined {
  const value = body[name]
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'number' || !Number.isFinite(value)) throw invalid(param, `expected a number, got ${describe(value)}.`)
  if (rule.integer && !Number.isInteger(value)) throw invalid(param, `expected an integer, got ${value}.`)
  if (rule.min !== undefined && value < rule.min) throw invalid(param, `${value} is below the minimum of ${rule.min}.`)
  if (rule.max !== undefined && value > rule.max) throw invalid(param, `${value} is above the maximum of ${rule.max}.`)
  return value
}

export function optBoolean(body: Json, name: string, param = name): boolean | undefined {
  const value = body[name]
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'boolean') throw invalid(param, `expected a boolean, got ${describe(value)}.`)
  return value
}

export function optString(body: Json, name: string, param = name): string | undefined {
  const value = body[name]
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'string') throw invalid(param, `expected a string, got ${describe(value)}.`)
  return value
}

export function optObject(body: Json, name: string, param = name): Json | undefined {
  const value = body[name]
  if (value === undefined || value === null) return undefined
  if (!isObject(value)) throw invalid(param, `expected an object, got ${describe(value)}.`)
  return value
}

export function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'string') return `a string ("${value.length > 40 ? value.slice(0, 40) + '…' : value}")`
  return typeof value === 'object' ? 'an object' : `${typeof value} ${String(value)}`
}
